//! Convolutions with a few output pixels per image (the strided STFT and encoder convs of
//! streaming audio models: 1 to 8 output positions, hundreds of channels). The blocked driver
//! computes `NR` (16) pixels per tile, so there most of each tile is padding; here the pixels'
//! receptive fields become the rows of a few-row product with the weight
//! ([`crate::f32::linear::PackedLinear`], packed on first use), which streams the weight once
//! for all of them.

use super::micro::clamp;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights};
use crate::KernelError;

/// Output pixels per image up to which a convolution takes this path.
pub const FEW_PIXELS: usize = 8;

/// True when `geo` (checked against `w`) has few enough output pixels per image.
pub(super) fn applies(geo: &Conv2dGeometry, w: &PackedConvWeights) -> bool {
    w.groups == 1 && geo.output().is_ok_and(|[oh, ow]| oh * ow <= FEW_PIXELS)
}

/// The convolution of `x` into `out` (see [`super::conv2d`]); `geo` was checked against `w`,
/// `x` and `out`, and [`applies`] holds.
pub(super) fn conv(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), KernelError> {
    let [oh, ow] = geo.output()?;
    let pixels = oh * ow;
    let (k, co) = (w.k(), w.out_channels);
    let rows = geo.batch * pixels;
    let mut fields = vec![0f32; rows * k];
    for (r, field) in fields.chunks_exact_mut(k.max(1)).enumerate() {
        receptive_field(x, geo, r / pixels, (r % pixels) / ow, r % ow, field);
    }
    let linear = w.linear()?;
    let mut sums = vec![0f32; rows * co];
    linear.forward(&fields, rows, &mut sums).ok_or_else(|| {
        KernelError::Conv("few-pixel convolution: operand sizes do not match".into())
    })?;
    let terms = w.terms(0, co);
    for (r, acc) in sums.chunks_exact(co.max(1)).enumerate() {
        let (image, p) = (r / pixels, r % pixels);
        for (c, &a) in acc.iter().enumerate() {
            let y = &mut out[(image * co + c) * pixels + p];
            let mut v = terms.apply(c, a);
            if epi.accumulate {
                v += *y;
            }
            *y = clamp(v, epi);
        }
    }
    Ok(())
}

/// The input values output pixel `(oy, ox)` of `image` reads, in the weights' `[in, kh, kw]`
/// order, zeros where the window lies in the padding.
fn receptive_field(
    x: &[f32],
    geo: &Conv2dGeometry,
    image: usize,
    oy: usize,
    ox: usize,
    field: &mut [f32],
) {
    let [h, wd] = geo.input;
    let [kh, kw] = geo.kernel;
    let plane = h * wd;
    let mut at = 0;
    for ci in 0..geo.in_channels {
        let src = &x[(image * geo.in_channels + ci) * plane..][..plane];
        for ky in 0..kh {
            let iy = (oy * geo.window.stride[0] + ky * geo.window.dilation[0])
                .checked_sub(geo.window.pad_begin()[0]);
            for kx in 0..kw {
                let ix = (ox * geo.window.stride[1] + kx * geo.window.dilation[1])
                    .checked_sub(geo.window.pad_begin()[1]);
                field[at] = match (iy, ix) {
                    (Some(iy), Some(ix)) if iy < h && ix < wd => src[iy * wd + ix],
                    _ => 0.0,
                };
                at += 1;
            }
        }
    }
}
