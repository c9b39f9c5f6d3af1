//! Depthwise int8 convolution (one input and one output channel per group).
//!
//! Codes minus their zero points are small integers, and so are their sums: up to
//! [`super::pack::EXACT_F32_TAPS`] taps, every sum is exact in f32. Such convolutions run on
//! the float depthwise kernel (registers of 16 output columns across all taps) over the codes
//! as f32, and each plane's exact sums go through the tile epilogue 16 pixels at a time. Larger
//! kernels accumulate i32 rows from shifted input rows, one output plane per task.

use rayon::prelude::*;

use super::epilogue::{Place, Sink};
use super::{DirectConv, MR, NR, Tile};
use crate::f32::conv::{Conv2dGeometry, PackedConvWeights, depthwise};
use crate::pack::Activation;
use crate::{Conv2dParams, QuantizedInput};

/// Depthwise driver; the caller checked the geometry and buffers.
pub(super) fn run<A: Activation>(
    input: QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    [n, oc, oh, ow]: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
) {
    if let Some(fw) = &w.float
        && exact_f32(
            &input,
            fw,
            [w.shape[2], w.shape[3]],
            params,
            [n, oc, oh, ow],
            sink,
            avx2,
        )
    {
        return;
    }
    let plane = |idx: usize| {
        let mut acc = vec![0i32; oh * ow];
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: AVX2 was detected by the caller.
            unsafe { accumulate_avx2(&input, w, params, idx, [oh, ow], &mut acc) };
        } else {
            accumulate(&input, w, params, idx, [oh, ow], &mut acc);
        }
        #[cfg(not(target_arch = "x86_64"))]
        accumulate(&input, w, params, idx, [oh, ow], &mut acc);
        let mut tile: Tile = [[0; NR]; MR];
        for (k, chunk) in acc.chunks(NR).enumerate() {
            tile[0][..chunk.len()].copy_from_slice(chunk);
            let place = Place {
                channel: idx % oc,
                at: idx * oh * ow + k * NR,
                stride: 0,
                rows: 1,
                cols: chunk.len(),
            };
            // SAFETY: plane `idx` of the checked output belongs to this task alone.
            unsafe { sink.store(&tile, place, avx2) };
        }
    };
    let macs = n * oc * oh * ow * w.shape[2] * w.shape[3];
    if macs >= super::drive::PARALLEL_MACS && rayon::current_num_threads() > 1 {
        (0..n * oc).into_par_iter().for_each(plane);
    } else {
        (0..n * oc).for_each(plane);
    }
}

/// The float-lane route: each plane's codes minus the zero point as f32 through the float
/// depthwise kernel, its exact sums to the epilogue. False (nothing written) when the float
/// kernel refuses the geometry.
fn exact_f32<A: Activation>(
    input: &QuantizedInput<'_, A>,
    fw: &PackedConvWeights,
    kernel: [usize; 2],
    params: &Conv2dParams,
    [n, oc, oh, ow]: [usize; 4],
    sink: &dyn Sink,
    avx2: bool,
) -> bool {
    let [_, c, h, wd] = input.shape;
    let zp = f32::from(input.zero_point.to_offset_u8());
    let geo = Conv2dGeometry {
        batch: n,
        in_channels: c,
        input: [h, wd],
        out_channels: oc,
        kernel,
        window: *params,
        groups: oc,
    };
    let plane = oh * ow;
    let load = |idx: usize, dst: &mut [f32]| {
        let src = &input.data[idx * h * wd..][..h * wd];
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: AVX2 was detected by the caller.
            return unsafe { widen_avx2(src, zp, dst) };
        }
        widen(src, zp, dst);
    };
    let take = |idx: usize, sums: &[f32]| {
        let mut tile: Tile = [[0; NR]; MR];
        for (k, chunk) in sums.chunks(NR).enumerate() {
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: AVX2 was detected by the caller.
                unsafe { narrow_avx2(chunk, &mut tile[0]) };
            } else {
                narrow(chunk, &mut tile[0]);
            }
            #[cfg(not(target_arch = "x86_64"))]
            narrow(chunk, &mut tile[0]);
            let place = Place {
                channel: idx % oc,
                at: idx * plane + k * NR,
                stride: 0,
                rows: 1,
                cols: chunk.len(),
            };
            // SAFETY: plane `idx` of the checked output belongs to this call of `take` alone.
            unsafe { sink.store(&tile, place, avx2) };
        }
    };
    depthwise::conv_planes(&geo, fw, load, take).is_ok()
}

/// `dst = code - zero point`, as f32.
#[inline(always)]
fn widen<A: Activation>(src: &[A], zp: f32, dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f32::from(s.to_offset_u8()) - zp;
    }
}

/// Exact integer sums held as f32 back to i32.
#[inline(always)]
fn narrow(sums: &[f32], dst: &mut [i32; NR]) {
    for (d, &v) in dst.iter_mut().zip(sums) {
        *d = v as i32;
    }
}

/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn widen_avx2<A: Activation>(src: &[A], zp: f32, dst: &mut [f32]) {
    widen(src, zp, dst);
}

/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn narrow_avx2(sums: &[f32], dst: &mut [i32; NR]) {
    use std::arch::x86_64::{_mm256_cvttps_epi32, _mm256_loadu_ps, _mm256_storeu_si256};
    if sums.len() < NR {
        return narrow(sums, dst);
    }
    for half in 0..2 {
        // SAFETY: `sums` and `dst` hold NR = 16 values; the sums are exact integers below 2^24.
        unsafe {
            let v = _mm256_cvttps_epi32(_mm256_loadu_ps(sums.as_ptr().add(8 * half)));
            _mm256_storeu_si256(dst.as_mut_ptr().add(8 * half).cast(), v);
        }
    }
}

/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn accumulate_avx2<A: Activation>(
    input: &QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    idx: usize,
    out: [usize; 2],
    acc: &mut [i32],
) {
    accumulate(input, w, params, idx, out, acc);
}

/// `acc += sum over taps of w[tap] * (x - zp)` for plane `idx` (image x channel).
///
/// The plane is converted to i32 once, each row split into its `stride_w` column phases, so
/// every tap adds a contiguous run of one phase row to a contiguous run of the output row.
#[inline(always)]
fn accumulate<A: Activation>(
    input: &QuantizedInput<'_, A>,
    w: &DirectConv,
    params: &Conv2dParams,
    idx: usize,
    [oh, ow]: [usize; 2],
    acc: &mut [i32],
) {
    let [_, c, h, wd] = input.shape;
    let [_, _, kh, kw] = w.shape;
    let [sh, sw] = params.stride;
    let [dh, dw] = params.dilation;
    let [pt, pl, _, _] = params.pads;
    let zp = i32::from(input.zero_point.to_offset_u8());
    let src = &input.data[idx * h * wd..][..h * wd];
    // Row y, phase b, column j holds input column j * sw + b (minus the zero point).
    let pw = wd.div_ceil(sw);
    let mut phases = vec![0i32; h * sw * pw];
    for (y, line) in src.chunks_exact(wd).enumerate() {
        let row = &mut phases[y * sw * pw..][..sw * pw];
        if sw == 1 {
            for (d, s) in row.iter_mut().zip(line) {
                *d = i32::from(s.to_offset_u8()) - zp;
            }
        } else {
            for (x, s) in line.iter().enumerate() {
                row[(x % sw) * pw + x / sw] = i32::from(s.to_offset_u8()) - zp;
            }
        }
    }
    let weights = &w.raw[(idx % c) * kh * kw..][..kh * kw];
    for kx in 0..kw {
        let off = (kx * dw) as isize - pl as isize;
        // Output columns whose input column `ox * sw + off` lies in `0..wd`.
        let lo = if off >= 0 { 0 } else { (-off) as usize }
            .div_ceil(sw)
            .min(ow);
        let hi = if wd as isize > off {
            ((wd as isize - off) as usize).div_ceil(sw).min(ow)
        } else {
            0
        };
        if lo >= hi {
            continue;
        }
        let first = (lo * sw) as isize + off;
        let (b, j0) = (first as usize % sw, first as usize / sw);
        for ky in 0..kh {
            let wv = i32::from(weights[ky * kw + kx]);
            for oy in 0..oh {
                let iy = (oy * sh + ky * dh) as isize - pt as isize;
                if iy < 0 || iy >= h as isize {
                    continue;
                }
                let src = &phases[(iy as usize * sw + b) * pw + j0..][..hi - lo];
                for (a, &x) in acc[oy * ow + lo..oy * ow + hi].iter_mut().zip(src) {
                    *a += wv * x;
                }
            }
        }
    }
}
