//! Depthwise int8 convolution (one input and one output channel per group): one output plane
//! per task, i32 rows accumulated from shifted input rows (the loops vectorize under AVX2),
//! then the tile epilogue 16 pixels at a time.

use rayon::prelude::*;

use super::epilogue::{Place, Sink};
use super::{DirectConv, MR, NR, Tile};
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
    if macs >= super::PARALLEL_MACS && rayon::current_num_threads() > 1 {
        (0..n * oc).into_par_iter().for_each(plane);
    } else {
        (0..n * oc).for_each(plane);
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
    let mut line = vec![0i32; wd];
    let weights = &w.raw[(idx % c) * kh * kw..][..kh * kw];
    for ky in 0..kh {
        for oy in 0..oh {
            let iy = (oy * sh + ky * dh) as isize - pt as isize;
            if iy < 0 || iy >= h as isize {
                continue;
            }
            for (d, s) in line.iter_mut().zip(&src[iy as usize * wd..][..wd]) {
                *d = i32::from(s.to_offset_u8()) - zp;
            }
            let dst = &mut acc[oy * ow..][..ow];
            for kx in 0..kw {
                let wv = i32::from(weights[ky * kw + kx]);
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
                let start = ((lo * sw) as isize + off) as usize;
                let d = &mut dst[lo..hi];
                if sw == 1 {
                    for (a, &x) in d.iter_mut().zip(&line[start..start + (hi - lo)]) {
                        *a += wv * x;
                    }
                } else {
                    for (t, a) in d.iter_mut().enumerate() {
                        *a += wv * line[start + t * sw];
                    }
                }
            }
        }
    }
}
