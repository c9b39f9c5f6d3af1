//! Int8 2-D convolution (NCHW, groups, stride, pads, dilation) as im2col + the int8 GEMM.
//!
//! For each image and group, the receptive fields become rows of an activation matrix
//! `[out_h * out_w, in_channels_per_group * kh * kw]` (padding filled with the input zero point,
//! i.e. real zero), which multiplies the group's packed weights; the `[pixels, out_channels]`
//! result is written transposed into the NCHW output. Exact like the GEMM it runs on.

use rayon::prelude::*;

use crate::pack::Weights;
use crate::pack::{Activation, check_len};
use crate::{
    Conv2dParams, Kernel, KernelError, PackedB, QuantOutput, Requant, gemm_i32, gemm_qlinear,
    gemm_requant, gemm_scaled,
};

/// A quantized NCHW input: codes, shape, zero point and scale.
#[derive(Debug, Clone, Copy)]
pub struct QuantizedInput<'a, A> {
    /// Codes, row-major NCHW.
    pub data: &'a [A],
    /// `[batch, channels, height, width]`.
    pub shape: [usize; 4],
    /// The code of real zero (also the padding value).
    pub zero_point: A,
    /// Real value of one step.
    pub scale: f32,
}

/// Int8 convolution weights `[out_channels, in_channels / groups, kh, kw]`, packed per group.
#[derive(Debug, Clone)]
pub struct PackedConv {
    shape: [usize; 4],
    groups: usize,
    per_group: Vec<PackedB>,
}

impl PackedConv {
    /// Packs weights for the fastest kernel of this CPU, scales all 1.
    pub fn new(w: &[i8], shape: [usize; 4], groups: usize) -> Result<Self, KernelError> {
        Self::with_kernel(Kernel::best(), w, shape, groups)
    }

    /// Packs weights for an explicit kernel.
    pub fn with_kernel(
        kernel: Kernel,
        w: &[i8],
        shape: [usize; 4],
        groups: usize,
    ) -> Result<Self, KernelError> {
        Self::quantized(kernel, Weights::I8(w), &[0], shape, groups)
    }

    /// Packs i8 or u8 weight codes with zero points (one, or one per output channel).
    pub fn quantized(
        kernel: Kernel,
        w: Weights<'_>,
        zero_points: &[i32],
        shape: [usize; 4],
        groups: usize,
    ) -> Result<Self, KernelError> {
        let [oc, icg, kh, kw] = shape;
        check_groups(oc, groups)?;
        let len = match w {
            Weights::I8(v) => v.len(),
            Weights::U8(v) => v.len(),
        };
        check_len("w", oc * icg * kh * kw, len)?;
        if zero_points.len() != 1 {
            check_len("zero_points", oc, zero_points.len())?;
        }
        let (ocg, k) = (oc / groups, icg * kh * kw);
        let per_group = (0..groups)
            .map(|g| {
                let zps = if zero_points.len() == 1 {
                    zero_points
                } else {
                    &zero_points[g * ocg..][..ocg]
                };
                match w {
                    Weights::I8(v) => PackedB::quantized(
                        kernel,
                        Weights::I8(&transpose(v, g, ocg, k)),
                        zps,
                        k,
                        ocg,
                    ),
                    Weights::U8(v) => PackedB::quantized(
                        kernel,
                        Weights::U8(&transpose(v, g, ocg, k)),
                        zps,
                        k,
                        ocg,
                    ),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            shape,
            groups,
            per_group,
        })
    }

    /// Sets per-output-channel dequantization scales.
    pub fn with_scales(mut self, scales: &[f32]) -> Result<Self, KernelError> {
        check_len("scales", self.shape[0], scales.len())?;
        let ocg = self.shape[0] / self.groups;
        self.per_group = std::mem::take(&mut self.per_group)
            .into_iter()
            .zip(scales.chunks_exact(ocg))
            .map(|(p, s)| p.with_scales(s.to_vec()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// `[out_channels, in_channels / groups, kh, kw]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }
}

impl Conv2dParams {
    /// The NCHW output shape for an input shape and packed weights.
    pub fn output_shape(
        &self,
        input: [usize; 4],
        w: &PackedConv,
    ) -> Result<[usize; 4], KernelError> {
        self.output_dims(input, w.shape, w.groups)
    }

    /// The NCHW output shape for an input shape and weights `[oc, c / groups, kh, kw]`.
    pub(crate) fn output_dims(
        &self,
        input: [usize; 4],
        [oc, icg, kh, kw]: [usize; 4],
        groups: usize,
    ) -> Result<[usize; 4], KernelError> {
        let [n, c, h, wd] = input;
        if c != icg * groups {
            return Err(KernelError::Conv(format!(
                "input has `{c}` channels, weights expect `{}`",
                icg * groups
            )));
        }
        let [oh, ow] = self.output_hw([h, wd], [kh, kw])?;
        Ok([n, oc, oh, ow])
    }
}

/// Exact int8 convolution: `out[b, o, y, x] = sum (x - zero_point) * w` in i32, NCHW.
/// Returns the output shape.
pub fn conv2d_int8_i32<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    out: &mut [i32],
) -> Result<[usize; 4], KernelError> {
    conv_driver(input, w, params, out, |packed, cols, _, dst| {
        gemm_i32(cols, input.zero_point, packed, dst)
    })
}

/// Int8 convolution with dequantization fused into the GEMM epilogue:
/// `out = acc * (input.scale * w_scale[o]) + bias[o]` (see [`crate::gemm_requant`]).
/// Returns the output shape.
pub fn conv2d_int8<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<[usize; 4], KernelError> {
    if let Some(bias) = bias {
        check_len("bias", w.shape[0], bias.len())?;
    }
    let ocg = w.shape[0] / w.groups;
    conv_driver(input, w, params, out, |packed, cols, g, dst| {
        let bias = bias.map(|b| &b[g * ocg..][..ocg]);
        gemm_requant(cols, input.zero_point, input.scale, packed, bias, dst)
    })
}

/// Int8 convolution with onnxruntime's integer requantization fused into the GEMM epilogue
/// (see [`Requant`]; its columns are output channels): bit-exact with ORT's `QLinearConv`.
/// Returns the output shape.
pub fn conv2d_qlinear<A: Activation, O: QuantOutput>(
    input: QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    requant: &Requant<'_>,
    out: &mut [O],
) -> Result<[usize; 4], KernelError> {
    let ocg = w.shape[0] / w.groups;
    check_len("multiplier", w.shape[0], requant.multiplier.len())?;
    if let Some(bias) = requant.bias {
        check_len("bias", w.shape[0], bias.len())?;
    }
    conv_driver(input, w, params, out, |packed, cols, g, dst| {
        gemm_qlinear(
            cols,
            input.zero_point,
            packed,
            &requant.columns(g * ocg, ocg),
            dst,
        )
    })
}

/// Int8 convolution with explicit per-output-channel scales in the epilogue:
/// `out = acc * scales[o] + bias[o]` (see [`crate::gemm_scaled`]). Returns the output shape.
pub fn conv2d_scaled<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    scales: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<[usize; 4], KernelError> {
    check_len("scales", w.shape[0], scales.len())?;
    if let Some(bias) = bias {
        check_len("bias", w.shape[0], bias.len())?;
    }
    let ocg = w.shape[0] / w.groups;
    conv_driver(input, w, params, out, |packed, cols, g, dst| {
        let bias = bias.map(|b| &b[g * ocg..][..ocg]);
        gemm_scaled(
            cols,
            input.zero_point,
            packed,
            &scales[g * ocg..][..ocg],
            bias,
            dst,
        )
    })
}

/// The filters of group `g` (`ocg` filters of `k` codes each) as a row-major `k x ocg` matrix.
fn transpose<T: Copy + Default>(w: &[T], g: usize, ocg: usize, k: usize) -> Vec<T> {
    let mut b = vec![T::default(); k * ocg];
    for o in 0..ocg {
        let filter = &w[(g * ocg + o) * k..][..k];
        for (p, &v) in filter.iter().enumerate() {
            b[p * ocg + o] = v;
        }
    }
    b
}

/// Runs `gemm(packed_b, im2col, group, pixels_x_channels_out)` per image and group, in
/// parallel, and transposes each result into its NCHW block of `out`.
fn conv_driver<A, T, G>(
    input: QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    out: &mut [T],
    gemm: G,
) -> Result<[usize; 4], KernelError>
where
    A: Activation,
    T: Copy + Default + Send,
    G: Fn(&PackedB, &[A], usize, &mut [T]) -> Result<(), KernelError> + Sync,
{
    let out_shape = params.output_shape(input.shape, w)?;
    let [n, c, h, wd] = input.shape;
    check_len("input", n * c * h * wd, input.data.len())?;
    let [_, oc, oh, ow] = out_shape;
    check_len("out", n * oc * oh * ow, out.len())?;
    let (groups, ocg, pixels) = (w.groups, oc / w.groups, oh * ow);
    let block = |(bg, dst): (usize, &mut [T])| {
        let (b, g) = (bg / groups, bg % groups);
        let cols = im2col(&input, w, params, b, g, [oh, ow]);
        let mut tmp = vec![T::default(); pixels * ocg];
        gemm(&w.per_group[g], &cols, g, &mut tmp)?;
        for (o, dst_plane) in dst.chunks_exact_mut(pixels).enumerate() {
            for (d, src) in dst_plane.iter_mut().zip(tmp[o..].iter().step_by(ocg)) {
                *d = *src;
            }
        }
        Ok(())
    };
    out.par_chunks_mut(ocg * pixels)
        .enumerate()
        .try_for_each(block)?;
    Ok(out_shape)
}

/// The receptive fields of image `b`, group `g` as rows `[pixel][channel, ky, kx]`.
fn im2col<A: Activation>(
    input: &QuantizedInput<'_, A>,
    w: &PackedConv,
    params: &Conv2dParams,
    b: usize,
    g: usize,
    [oh, ow]: [usize; 2],
) -> Vec<A> {
    let [_, c, h, wd] = input.shape;
    let [_, icg, kh, kw] = w.shape;
    let k = icg * kh * kw;
    let mut cols = vec![input.zero_point; oh * ow * k];
    for (p, row) in cols.chunks_exact_mut(k).enumerate() {
        let (oy, ox) = (p / ow, p % ow);
        for ci in 0..icg {
            let plane = &input.data[(b * c + g * icg + ci) * h * wd..][..h * wd];
            for ky in 0..kh {
                let iy =
                    (oy * params.stride[0] + ky * params.dilation[0]).wrapping_sub(params.pads[0]);
                if iy >= h {
                    continue;
                }
                for kx in 0..kw {
                    let ix = (ox * params.stride[1] + kx * params.dilation[1])
                        .wrapping_sub(params.pads[1]);
                    if ix < wd {
                        row[(ci * kh + ky) * kw + kx] = plane[iy * wd + ix];
                    }
                }
            }
        }
    }
    cols
}

/// Checks that `oc` output channels split into `groups` non-empty groups.
pub(crate) fn check_groups(oc: usize, groups: usize) -> Result<(), KernelError> {
    if groups == 0 || oc == 0 || !oc.is_multiple_of(groups) {
        return Err(KernelError::Conv(format!(
            "`{oc}` output channels do not split into `{groups}` groups"
        )));
    }
    Ok(())
}
