//! `Conv` and `ConvTranspose` (1-D, 2-D, 3-D), with ONNX padding rules.

use burn_backend::ops::{ConvOptions, ConvTransposeOptions, FloatTensorOps, ModuleOps};
use burn_backend::{DType, Slice};
use burn_flex::FlexTensor;

use super::conv_fast::FastConv;
use super::util::{dims, float};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// Spatial attributes shared by convolutions and pools.
#[derive(Clone, Debug)]
pub struct Window {
    /// `auto_pad` (`NOTSET`, `SAME_UPPER`, `SAME_LOWER`, `VALID`).
    pub auto_pad: String,
    /// Explicit pads `[b1, b2, .., e1, e2, ..]`, if given.
    pub pads: Option<Vec<i64>>,
    /// Strides, if given.
    pub strides: Option<Vec<i64>>,
    /// Dilations, if given.
    pub dilations: Option<Vec<i64>>,
    /// Kernel shape, if given.
    pub kernel: Option<Vec<i64>>,
}

impl Window {
    /// Reads the window attributes of a node.
    pub fn parse(ctx: &BuildCtx) -> Result<Self, String> {
        Ok(Self {
            auto_pad: ctx.string("auto_pad", "NOTSET")?,
            pads: ctx.ints("pads")?,
            strides: ctx.ints("strides")?,
            dilations: ctx.ints("dilations")?,
            kernel: ctx.ints("kernel_shape")?,
        })
    }

    fn list(
        v: &Option<Vec<i64>>,
        n: usize,
        default: usize,
        what: &str,
    ) -> Result<Vec<usize>, String> {
        match v {
            None => Ok(vec![default; n]),
            Some(v) if v.len() == n && v.iter().all(|&x| x >= 1) => {
                Ok(v.iter().map(|&x| x as usize).collect())
            }
            Some(v) => Err(format!("{what} {v:?} does not fit {n} spatial dims")),
        }
    }

    /// Strides for `n` spatial dims.
    pub fn strides(&self, n: usize) -> Result<Vec<usize>, String> {
        Self::list(&self.strides, n, 1, "strides")
    }

    /// Dilations for `n` spatial dims.
    pub fn dilations(&self, n: usize) -> Result<Vec<usize>, String> {
        Self::list(&self.dilations, n, 1, "dilations")
    }

    /// `(begin, end)` padding per spatial dim for a forward window over `input` sizes.
    pub fn padding(
        &self,
        input: &[usize],
        kernel: &[usize],
    ) -> Result<Vec<(usize, usize)>, String> {
        let n = input.len();
        let strides = self.strides(n)?;
        let dil = self.dilations(n)?;
        match self.auto_pad.as_str() {
            "SAME_UPPER" | "SAME_LOWER" => Ok((0..n)
                .map(|i| {
                    let out = input[i].div_ceil(strides[i]);
                    let span = kernel[i].saturating_sub(1).saturating_mul(dil[i]) + 1;
                    let total = (out.saturating_sub(1).saturating_mul(strides[i]))
                        .saturating_add(span)
                        .saturating_sub(input[i]);
                    if self.auto_pad == "SAME_UPPER" {
                        (total / 2, total - total / 2)
                    } else {
                        (total - total / 2, total / 2)
                    }
                })
                .collect()),
            "VALID" => Ok(vec![(0, 0); n]),
            "NOTSET" | "" => match &self.pads {
                None => Ok(vec![(0, 0); n]),
                Some(p) if p.len() == 2 * n && p.iter().all(|&x| x >= 0) => {
                    Ok((0..n).map(|i| (p[i] as usize, p[i + n] as usize)).collect())
                }
                Some(p) => Err(format!("pads {p:?} do not fit {n} spatial dims")),
            },
            other => Err(format!("unknown auto_pad `{other}`")),
        }
    }
}

/// The output shape of a forward convolution or pool of input `sx` with kernel `kernel`
/// (`channels` output channels), checked before anything is allocated: the kernel fits the
/// padded input, no size overflows, and the output and the padded input fit the memory
/// budget.
pub fn forward_output(
    win: &Window,
    sx: &[usize],
    kernel: &[usize],
    channels: usize,
) -> Result<Vec<usize>, String> {
    let n = kernel.len();
    let spatial = &sx[sx.len() - n..];
    let pad = win.padding(spatial, kernel)?;
    let (st, dl) = (win.strides(n)?, win.dilations(n)?);
    let mut out = vec![sx[0], channels];
    let mut padded = sx[..2].to_vec();
    for i in 0..n {
        let span = kernel[i]
            .checked_sub(1)
            .and_then(|k| k.checked_mul(dl[i]))
            .and_then(|k| k.checked_add(1));
        let full = spatial[i]
            .checked_add(pad[i].0)
            .and_then(|v| v.checked_add(pad[i].1));
        match (span, full) {
            (Some(span), Some(full)) if span <= full => {
                out.push((full - span) / st[i] + 1);
                padded.push(full);
            }
            _ => {
                return Err(format!(
                    "kernel {kernel:?} (dilations {dl:?}) does not fit the input {sx:?} padded by {pad:?}"
                ));
            }
        }
    }
    super::util::check_numel(&padded)?;
    super::util::check_numel(&out)?;
    Ok(out)
}

fn arr<const N: usize>(v: &[usize]) -> [usize; N] {
    let mut a = [0; N];
    a.copy_from_slice(&v[..N]);
    a
}

/// `Conv(X, W, B?)`.
pub fn conv(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    conv_with(ctx, f32::NEG_INFINITY, f32::INFINITY, false)
}

/// `clamp(Conv(X, W, B?) + Z?, min, max)`, `Z` (input 3, when `residual`) of the output's shape.
/// f32 1-D/2-D convolutions run on burnish's kernels, the rest on Burn's.
pub fn conv_with(
    ctx: &BuildCtx,
    min: f32,
    max: f32,
    residual: bool,
) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(ctx)?;
    let group = ctx.int("group", 1)?.max(1) as usize;
    let fast = FastConv::new(ctx, win.clone(), group, (min, max), None);
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let half = matches!(x.dtype(), DType::F16 | DType::BF16).then(|| x.dtype());
        let wide = |t: FlexTensor| match half {
            Some(_) => B::float_cast(t, DType::F32.into()),
            None => t,
        };
        let x = wide(x);
        let w = wide(float(ins.take(1)?)?);
        let b = ins.opt(2).map(float).transpose()?.map(wide);
        let z = if residual {
            ins.opt(3).map(float).transpose()?.map(wide)
        } else {
            None
        };
        let y = conv_f32(&fast, x, w, b, z, &win, group, (min, max))?;
        Ok(vec![Value::Float(match half {
            Some(d) => B::float_cast(y, d.into()),
            None => y,
        })])
    })
}

/// `clamp(Conv(x, w, b) + z)` on f32 operands (float16/bfloat16 convolutions are widened to
/// f32 and rounded once at the end, as onnxruntime and the reference compute them).
#[allow(clippy::too_many_arguments)]
fn conv_f32(
    fast: &FastConv,
    x: FlexTensor,
    w: FlexTensor,
    b: Option<FlexTensor>,
    z: Option<FlexTensor>,
    win: &Window,
    group: usize,
    (min, max): (f32, f32),
) -> Result<FlexTensor, String> {
    let (sx, sw) = (dims(&x), dims(&w));
    if sx.len() < 3 || sx.len() != sw.len() {
        return Err(format!(
            "Conv input {sx:?} and weight {sw:?} ranks do not fit"
        ));
    }
    forward_output(win, &sx, &sw[2..], sw[0])?;
    if FastConv::applies(&x, &w) {
        return fast.run(x, &w, b, z);
    }
    let y = burn_conv(x, w, b, win, group)?;
    let y = match z {
        Some(z) => B::float_add(y, z),
        None => y,
    };
    Ok(if min > f32::NEG_INFINITY || max < f32::INFINITY {
        B::float_clamp(y, min.into(), max.into())
    } else {
        y
    })
}

fn burn_conv(
    x: FlexTensor,
    w: FlexTensor,
    b: Option<FlexTensor>,
    win: &Window,
    group: usize,
) -> Result<FlexTensor, String> {
    {
        let (sx, sw) = (dims(&x), dims(&w));
        if sx.len() < 3 || sx.len() != sw.len() {
            return Err(format!(
                "Conv input {sx:?} and weight {sw:?} ranks do not fit"
            ));
        }
        let n = sx.len() - 2;
        if sx[1] != sw[1] * group || sw[0] % group != 0 {
            return Err(format!(
                "Conv channels do not match: input {sx:?}, weight {sw:?}, group {group}"
            ));
        }
        let pad = win.padding(&sx[2..], &sw[2..])?;
        let (st, dl) = (win.strides(n)?, win.dilations(n)?);
        for i in 0..n {
            if sx[2 + i] + pad[i].0 + pad[i].1 < (sw[2 + i] - 1) * dl[i] + 1 {
                return Err(format!(
                    "Conv kernel {sw:?} is larger than the padded input {sx:?}"
                ));
            }
        }
        let y = match n {
            1 => B::conv1d(
                x,
                w,
                b,
                ConvOptions::new_with_padding(arr(&st), [pad[0]], arr(&dl), group),
            ),
            2 => B::conv2d(
                x,
                w,
                b,
                ConvOptions::new_with_padding(arr(&st), [pad[0], pad[1]], arr(&dl), group),
            ),
            3 => B::conv3d(
                x,
                w,
                b,
                ConvOptions::new_with_padding(arr(&st), [pad[0], pad[1], pad[2]], arr(&dl), group),
            ),
            _ => return Err(format!("Conv with {n} spatial dims is not supported")),
        };
        Ok(y)
    }
}

/// `ConvTranspose(X, W, B?)`: computed unpadded, then cropped by the (possibly asymmetric)
/// ONNX pads.
pub fn conv_transpose(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(ctx)?;
    let group = ctx.int("group", 1)?.max(1) as usize;
    let out_pad = ctx.ints("output_padding")?;
    let out_shape = ctx.ints("output_shape")?;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let w = float(ins.take(1)?)?;
        let b = ins.opt(2).map(float).transpose()?;
        let (sx, sw) = (dims(&x), dims(&w));
        if sx.len() < 3 || sx.len() != sw.len() || sx[1] != sw[0] {
            return Err(format!(
                "ConvTranspose input {sx:?} and weight {sw:?} do not fit"
            ));
        }
        let n = sx.len() - 2;
        let (st, dl) = (win.strides(n)?, win.dilations(n)?);
        let mut op_pad: Vec<usize> = match &out_pad {
            Some(v) if v.len() == n => v.iter().map(|&x| x.max(0) as usize).collect(),
            _ => vec![0; n],
        };
        let mut full = Vec::with_capacity(n);
        for i in 0..n {
            if op_pad[i] >= st[i].max(dl[i]) {
                return Err(format!(
                    "output_padding {:?} must be less than max(stride, dilation) in every dim",
                    op_pad
                ));
            }
            let size = st[i]
                .checked_mul(sx[2 + i].saturating_sub(1))
                .and_then(|v| v.checked_add(op_pad[i]))
                .and_then(|v| v.checked_add(sw[2 + i].saturating_sub(1).checked_mul(dl[i])?))
                .and_then(|v| v.checked_add(1))
                .ok_or_else(|| format!("ConvTranspose output of input {sx:?} overflows"))?;
            full.push(size);
        }
        let split = |total: usize| {
            if win.auto_pad == "SAME_UPPER" {
                (total / 2, total - total / 2)
            } else {
                (total - total / 2, total / 2)
            }
        };
        let pads: Vec<(usize, usize)> = if let Some(os) = &out_shape {
            let os = &os[os.len().saturating_sub(n)..];
            (0..n)
                .map(|i| {
                    let want = os[i].max(0) as usize;
                    if want > full[i] {
                        op_pad[i] += want - full[i];
                        full[i] = want;
                    }
                    split(full[i] - want)
                })
                .collect()
        } else if win.auto_pad.starts_with("SAME") {
            (0..n)
                .map(|i| split(full[i].saturating_sub(sx[2 + i] * st[i])))
                .collect()
        } else {
            win.padding(&vec![1; n], &vec![1; n])?
        };
        let mut out_shape = vec![sx[0], sw[1].saturating_mul(group)];
        out_shape.extend(&full);
        super::util::check_numel(&out_shape)?;
        let zero = vec![0; n];
        let y = match n {
            1 => B::conv_transpose1d(
                x,
                w,
                b,
                ConvTransposeOptions::new(arr(&st), [0], arr(&op_pad), arr(&dl), group),
            ),
            2 => B::conv_transpose2d(
                x,
                w,
                b,
                ConvTransposeOptions::new(arr(&st), arr(&zero), arr(&op_pad), arr(&dl), group),
            ),
            3 => B::conv_transpose3d(
                x,
                w,
                b,
                ConvTransposeOptions::new(arr(&st), arr(&zero), arr(&op_pad), arr(&dl), group),
            ),
            _ => {
                return Err(format!(
                    "ConvTranspose with {n} spatial dims is not supported"
                ));
            }
        };
        if pads.iter().all(|&(a, b)| a == 0 && b == 0) {
            return Ok(vec![Value::Float(y)]);
        }
        let sy = dims(&y);
        let mut slices: Vec<Slice> = vec![Slice::from(0..sy[0]), Slice::from(0..sy[1])];
        for i in 0..n {
            let (b0, e0) = pads[i];
            if b0 + e0 > sy[2 + i] {
                return Err("ConvTranspose pads exceed the output size".into());
            }
            slices.push(Slice::from(b0..sy[2 + i] - e0));
        }
        Ok(vec![Value::Float(crop(y, &slices))])
    })
}

fn crop(t: FlexTensor, slices: &[Slice]) -> FlexTensor {
    B::float_slice(t, slices)
}
