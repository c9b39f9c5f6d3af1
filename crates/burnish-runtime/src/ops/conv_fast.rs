//! The f32 1-D/2-D convolution path on burnish's own kernels ([`burnish_kernels::f32::conv`]): weights and a
//! constant bias packed once at session build, bias, residual and Relu/Clip in the epilogue.
//! Other element types and 3-D convolutions stay on Burn's conv.

use std::sync::Arc;

use burn_backend::DType as BurnDType;
use burn_backend::TensorMetadata;
use burn_backend::ops::FloatTensorOps;
use burn_flex::FlexTensor;

use super::BuildCtx;
use super::conv::Window;
use super::util::{dims, host_f32, upload_f32};
use crate::value::B;
use burnish_kernels::Conv2dParams;
use burnish_kernels::f32::conv::{
    Conv2dGeometry, Epilogue, PackedConvWeights, conv2d, conv2d_uninit,
};

/// A convolution node compiled for the fast path.
pub struct FastConv {
    win: Window,
    group: usize,
    epilogue: Epilogue,
    affine: Option<(Vec<f32>, Vec<f32>)>,
    packed: Option<Arc<PackedConvWeights>>,
}

impl FastConv {
    /// Reads the node; packs the weights now when they (and the bias, if any) are constant.
    /// `affine` is a per-channel scale and shift applied after the bias, before the residual
    /// and the clamp ([`PackedConvWeights::with_affine`]).
    pub fn new(
        ctx: &BuildCtx,
        win: Window,
        group: usize,
        (min, max): (f32, f32),
        affine: Option<(Vec<f32>, Vec<f32>)>,
    ) -> Self {
        let konst = |i: usize| ctx.consts.get(i).and_then(Option::as_ref);
        let packed = konst(1).and_then(|w| {
            let shape = shape4(&w.shape)?;
            let bias = match (ctx.node.inputs.get(2).filter(|s| !s.is_empty()), konst(2)) {
                (None, _) => None,
                (Some(_), Some(b)) => Some(b.as_f32()?),
                (Some(_), None) => return None,
            };
            let packed = PackedConvWeights::new(w.as_f32()?, shape, group, bias).ok()?;
            with_affine(packed, affine.as_ref()).ok().map(Arc::new)
        });
        Self {
            win,
            group,
            epilogue: Epilogue {
                min,
                max,
                accumulate: false,
            },
            affine,
            packed,
        }
    }

    /// True when the fast path computes this call (f32, 1-D or 2-D).
    pub fn applies(x: &FlexTensor, w: &FlexTensor) -> bool {
        let rank = x.shape().num_dims();
        x.dtype() == BurnDType::F32
            && w.dtype() == BurnDType::F32
            && (rank == 3 || rank == 4)
            && w.shape().num_dims() == rank
    }

    /// Computes `clamp(conv(x, w) + b + z)`.
    pub fn run(
        &self,
        x: FlexTensor,
        w: &FlexTensor,
        b: Option<FlexTensor>,
        z: Option<FlexTensor>,
    ) -> Result<FlexTensor, String> {
        let (sx, sw) = (dims(&x), dims(w));
        if sx.len() != sw.len() || sx.len() < 3 {
            return Err(format!(
                "Conv input {sx:?} and weight {sw:?} ranks do not fit"
            ));
        }
        // The padded input and the output fit the memory budget (a conv chain reaches here
        // without the plain Conv op's check).
        super::conv::forward_output(&self.win, &sx, &sw[2..], sw[0])?;
        let one_d = sx.len() == 3;
        let lift = |s: &[usize]| -> Vec<usize> {
            if one_d {
                vec![s[0], s[1], 1, s[2]]
            } else {
                s.to_vec()
            }
        };
        let (lx, lw) = (lift(&sx), lift(&sw));
        if lx[1] != lw[1] * self.group || lw[0] % self.group != 0 {
            return Err(format!(
                "Conv channels do not match: input {sx:?}, weight {sw:?}, group {}",
                self.group
            ));
        }
        let n = sx.len() - 2;
        let pad = self.win.padding(&sx[2..], &sw[2..])?;
        let (st, dl) = (self.win.strides(n)?, self.win.dilations(n)?);
        let pick = |v: &[usize], unit: usize| if one_d { [unit, v[0]] } else { [v[0], v[1]] };
        let geo = Conv2dGeometry {
            batch: lx[0],
            in_channels: lx[1],
            input: [lx[2], lx[3]],
            out_channels: lw[0],
            kernel: [lw[2], lw[3]],
            window: Conv2dParams {
                stride: pick(&st, 1),
                pads: {
                    let [t, l] = pick(&pad.iter().map(|p| p.0).collect::<Vec<_>>(), 0);
                    let [b, r] = pick(&pad.iter().map(|p| p.1).collect::<Vec<_>>(), 0);
                    [t, l, b, r]
                },
                dilation: pick(&dl, 1),
            },
            groups: self.group,
        };
        let [oh, ow] = geo.output().map_err(|e| e.to_string())?;
        let packed = match (&self.packed, &b) {
            (Some(p), _) => p.clone(),
            (None, b) => {
                let bias = b.as_ref().map(host_f32).transpose()?;
                let shape = [lw[0], lw[1], lw[2], lw[3]];
                let packed =
                    PackedConvWeights::new(&host_f32(w)?, shape, self.group, bias.as_deref())
                        .map_err(|e| e.to_string())?;
                Arc::new(with_affine(packed, self.affine.as_ref())?)
            }
        };
        let out_shape: Vec<usize> = if one_d {
            vec![lx[0], lw[0], ow]
        } else {
            vec![lx[0], lw[0], oh, ow]
        };
        let numel: usize = out_shape.iter().product();
        let mut epi = self.epilogue;
        let x = contiguous(x);
        let xs = x
            .as_slice::<f32>()
            .ok_or("Conv input is not a contiguous f32 tensor")?;
        let in_kernel = |z: &FlexTensor| {
            dims(z) == out_shape && !(packed.is_depthwise() && packed.affine.is_some())
        };
        let z = match z {
            Some(z) if !in_kernel(&z) => {
                // A broadcast residual (or one a depthwise kernel cannot add after scaling)
                // follows the conv, as an unfused Add and clamp would.
                let mut plain = epi;
                (plain.min, plain.max) = (f32::NEG_INFINITY, f32::INFINITY);
                let y = uninit_conv(xs, &geo, &packed, &plain, out_shape)?;
                let y = B::float_add(y, z);
                return Ok(if epi.min > f32::NEG_INFINITY || epi.max < f32::INFINITY {
                    B::float_clamp(y, epi.min.into(), epi.max.into())
                } else {
                    y
                });
            }
            z => z,
        };
        let Some(z) = z else {
            return uninit_conv(xs, &geo, &packed, &epi, out_shape);
        };
        epi.accumulate = true;
        // The residual's buffer becomes the output when this op holds its only reference.
        let mut z = contiguous(z);
        if z.dtype() == BurnDType::F32
            && z.layout().start_offset() == 0
            && let Some(buf) = z.try_storage_mut::<f32>().filter(|b| b.len() == numel)
        {
            conv2d(xs, &geo, &packed, &epi, buf).map_err(|e| e.to_string())?;
            return Ok(z);
        }
        let mut out = match z.as_slice::<f32>() {
            Some(s) => s.to_vec(),
            None => host_f32(&z)?,
        };
        conv2d(xs, &geo, &packed, &epi, &mut out).map_err(|e| e.to_string())?;
        Ok(upload_f32(out, out_shape))
    }
}

/// Convolves into a fresh, uninitialized buffer (no residual).
fn uninit_conv(
    xs: &[f32],
    geo: &Conv2dGeometry,
    packed: &PackedConvWeights,
    epi: &Epilogue,
    out_shape: Vec<usize>,
) -> Result<FlexTensor, String> {
    let numel: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    conv2d_uninit(xs, geo, packed, epi, &mut out.spare_capacity_mut()[..numel])
        .map_err(|e| e.to_string())?;
    // SAFETY: `conv2d_uninit` returned Ok, so it wrote all `numel` values.
    unsafe { out.set_len(numel) };
    Ok(upload_f32(out, out_shape))
}

fn with_affine(
    packed: PackedConvWeights,
    affine: Option<&(Vec<f32>, Vec<f32>)>,
) -> Result<PackedConvWeights, String> {
    match affine {
        Some((s, t)) => packed
            .with_affine(s.clone(), t.clone())
            .map_err(|e| e.to_string()),
        None => Ok(packed),
    }
}

fn contiguous(t: FlexTensor) -> FlexTensor {
    super::util::dense(t)
}

fn shape4(s: &[usize]) -> Option<[usize; 4]> {
    match *s {
        [a, b, c, d] => Some([a, b, c, d]),
        [a, b, c] => Some([a, b, 1, c]),
        _ => None,
    }
}
