//! Convolutions with small output planes (7x7 to 14x14 pixels: the late stages of ImageNet
//! CNNs, detector necks) on AVX-512. The blocked driver puts 16 output pixels in a vector, so a
//! 7x7 plane fills 49 of 64 lanes; here vectors run along output channels instead. The
//! image's im2col columns (`k` x pixels; the input plane itself for an unpadded pointwise conv)
//! are the transposed left operand of the weight's packed product
//! ([`crate::f32::linear::PackedLinear::forward_transposed`], 6 pixels x 64 channels per
//! register tile, no lane left idle), and the epilogue writes the pixels x channels sums back
//! as NCHW planes (measured on Zen 4, one thread: 512->512 3x3 on 7x7 71 -> 100 GFLOP/s).

use rayon::prelude::*;

use super::micro::clamp;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights};
use crate::KernelError;

/// Output pixels per image from which a one-group convolution takes this path (smaller ones
/// take the few-pixel path).
const MIN_PIXELS: usize = super::few::FEW_PIXELS + 1;
/// Output pixels per image up to which it does.
const MAX_PIXELS: usize = 196;
/// Output pixels per image up to which a pointwise conv with a long reduction does.
const MAX_POINTWISE_PIXELS: usize = 784;
/// A pointwise reduction from which that holds.
const LONG_K: usize = 256;
/// Output channels from which it pays (a 64-channel panel per register tile).
const MIN_CHANNELS: usize = 64;
/// Values from which the im2col columns and the epilogue are split across threads.
const PARALLEL_VALUES: usize = 1 << 15;

/// True when `geo` (checked against `w`) runs on this path on this CPU: where the blocked
/// driver would leave more of its 16 pixel lanes idle than this path leaves channel lanes
/// (7x7 3x3 512->512: 2960 -> 2330 us; 13x13 3x3 96->96 stays, 326 against 333), and for
/// unpadded pointwise convs with a long reduction, read in place (13x13 384->192 292 -> 235,
/// 28x28 512->128 74 -> 98 GFLOP/s; a short one, 8x20 128->512, stays: 218 against 230).
/// Measured on Zen 4, one thread, best of four alternations.
pub(super) fn applies(geo: &Conv2dGeometry, w: &PackedConvWeights) -> bool {
    let Ok([oh, ow]) = geo.output() else {
        return false;
    };
    let (pixels, co) = (oh * ow, w.out_channels);
    if !crate::cpu::features().avx512() || w.groups != 1 || co < MIN_CHANNELS {
        return false;
    }
    let used = |n: usize| n as f32 / (16 * n.div_ceil(16)) as f32;
    let long = reads_in_place(geo, pixels) && w.k() >= LONG_K;
    let fuller = used(co) > used(pixels) + 0.03;
    match pixels {
        p if p < MIN_PIXELS => false,
        p if p <= MAX_PIXELS => long || fuller,
        p => long && p <= MAX_POINTWISE_PIXELS && w.k() >= 4 * co,
    }
}

/// True for an unpadded pointwise conv with stride 1: the input planes are the transposed
/// operand as they are.
fn reads_in_place(geo: &Conv2dGeometry, pixels: usize) -> bool {
    geo.kernel == [1, 1]
        && geo.window.stride == [1, 1]
        && geo.window.pads == [0; 4]
        && geo.input[0] * geo.input[1] == pixels
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
    let linear = w.linear()?;
    let plane_in = geo.input[0] * geo.input[1];
    let in_place = reads_in_place(geo, pixels);
    let mut columns = Vec::new();
    let mut sums = vec![0f32; pixels * co];
    let threads = rayon::current_num_threads() > 1;
    for (image, y) in out.chunks_exact_mut(co * pixels).enumerate() {
        let xi = &x[image * geo.in_channels * plane_in..][..geo.in_channels * plane_in];
        let xt = if in_place {
            xi
        } else {
            columns.resize(k * pixels, 0.0);
            let fill = |(kk, row): (usize, &mut [f32])| column(xi, geo, [oh, ow], kk, row);
            if threads && k * pixels >= PARALLEL_VALUES {
                columns.par_chunks_mut(pixels).enumerate().for_each(fill);
            } else {
                columns.chunks_mut(pixels).enumerate().for_each(fill);
            }
            &columns[..]
        };
        linear
            .forward_transposed(xt, pixels, &mut sums)
            .ok_or_else(|| {
                KernelError::Conv("small-plane convolution: operand sizes do not match".into())
            })?;
        let terms = w.terms(0, co);
        let add_terms = |row: &mut [f32]| with_terms(&terms, epi, row);
        if threads && co * pixels >= PARALLEL_VALUES {
            sums.par_chunks_mut(co).for_each(add_terms);
            let write =
                |(b, y): (usize, &mut [f32])| finish(&sums[b * BLOCK..], co, pixels, epi, y);
            y.par_chunks_mut(BLOCK * pixels).enumerate().for_each(write);
        } else {
            sums.chunks_mut(co).for_each(add_terms);
            for (b, y) in y.chunks_mut(BLOCK * pixels).enumerate() {
                finish(&sums[b * BLOCK..], co, pixels, epi, y);
            }
        }
    }
    Ok(())
}

/// Adds the bias and affine terms to one pixel's sums (all channels), in the order
/// [`super::Terms::apply`] uses, and clamps them when no residual comes after.
fn with_terms(terms: &super::Terms<'_>, epi: &Epilogue, row: &mut [f32]) {
    for (v, b) in row.iter_mut().zip(terms.bias) {
        *v += b;
    }
    if let Some((scale, shift)) = terms.affine {
        for ((v, s), t) in row.iter_mut().zip(scale).zip(shift) {
            *v = *v * s + t;
        }
    }
    if !epi.accumulate {
        let (lo, hi) = (epi.min, epi.max);
        for v in row.iter_mut() {
            let c = if *v < lo { lo } else { *v };
            *v = if c > hi { hi } else { c };
        }
    }
}

/// Output channels the epilogue transposes at a time: one cache line of each pixel's sums (a
/// column walk would read lines `co` values apart, which with `co` a power of two all fall in
/// one L1 set).
const BLOCK: usize = 16;

/// Writes the planes `y` of up to [`BLOCK`] output channels from their columns of the
/// pixels x channels `sums` (`sums[p * co + j]` is pixel `p` of the block's channel `j`),
/// adding the residual and clamping when there is one (else [`with_terms`] clamped).
fn finish(sums: &[f32], co: usize, pixels: usize, epi: &Epilogue, y: &mut [f32]) {
    let channels = y.len() / pixels;
    for p in 0..pixels {
        let row = &sums[p * co..][..channels];
        if !epi.accumulate {
            for (j, &v) in row.iter().enumerate() {
                y[j * pixels + p] = v;
            }
            continue;
        }
        for (j, &v) in row.iter().enumerate() {
            let dst = &mut y[j * pixels + p];
            *dst = clamp(v + *dst, epi);
        }
    }
}

/// Row `kk` of the im2col columns of one image: reduction step `kk` (input channel, kernel row,
/// kernel column, the weights' order) for every output pixel, zero where the window reads
/// padding.
fn column(x: &[f32], geo: &Conv2dGeometry, [oh, ow]: [usize; 2], kk: usize, row: &mut [f32]) {
    let [h, wd] = geo.input;
    let [kh, kw] = geo.kernel;
    let (ci, ky, kx) = (kk / (kh * kw), kk / kw % kh, kk % kw);
    let src = &x[ci * h * wd..][..h * wd];
    let [sy, sx] = geo.window.stride;
    let [dy, dx] = geo.window.dilation;
    let [pt, pl] = geo.window.pad_begin();
    // Output columns whose input column lies inside the plane: `0 <= ox * sx + a < wd`.
    let a = (kx * dx) as isize - pl as isize;
    let lo = if a >= 0 {
        0
    } else {
        (-a as usize).div_ceil(sx)
    };
    let hi = if (wd as isize) > a {
        ((wd as isize - a) as usize).div_ceil(sx).min(ow)
    } else {
        0
    };
    for (oy, out) in row.chunks_exact_mut(ow).enumerate().take(oh) {
        let iy = (oy * sy + ky * dy).checked_sub(pt).filter(|&iy| iy < h);
        let (Some(iy), true) = (iy, lo < hi) else {
            out.fill(0.0);
            continue;
        };
        out[..lo].fill(0.0);
        out[hi..].fill(0.0);
        let line = &src[iy * wd..][..wd];
        let first = (lo * sx) as isize + a;
        if sx == 1 {
            out[lo..hi].copy_from_slice(&line[first as usize..][..hi - lo]);
        } else {
            for (j, v) in out[lo..hi].iter_mut().enumerate() {
                *v = line[first as usize + j * sx];
            }
        }
    }
}
