//! The depthwise plane loop with explicit vectors: `LANES` outputs
//! in one `zmm` or two `ymm` accumulators, each tap a broadcast multiply and an add (no FMA, like
//! the portable `plane_out`).

use std::arch::x86_64::*;

use super::{Epilogue, LANES, Plane, Scratch};

/// # Safety
/// The CPU must have AVX-512F; `buf` holds the scratch plane `s` describes.
#[target_feature(enable = "avx512f,fma")]
pub unsafe fn plane_avx512(
    job: &Plane<'_>,
    s: &Scratch,
    buf: &[f32],
    epi: &Epilogue,
    dst: &mut [f32],
) {
    let ow = s.ow;
    let (lo, hi) = (_mm512_set1_ps(epi.min), _mm512_set1_ps(epi.max));
    let bias = _mm512_set1_ps(job.bias);
    let (sc, sh) = job.affine.unwrap_or((1.0, 0.0));
    let (scale, shift) = (_mm512_set1_ps(sc), _mm512_set1_ps(sh));
    let taps = &s.taps[..job.weights.len()];
    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
        let src = buf[oy * s.row_step..].as_ptr();
        let mut ox = 0;
        while ox < ow {
            let n = LANES.min(ow - ox);
            let mask: __mmask16 = if n == LANES { !0 } else { (1u16 << n) - 1 };
            let out = row[ox..].as_mut_ptr();
            let mut acc = if epi.accumulate {
                // SAFETY: `n` values of `row` from `ox` exist; the mask reads only them.
                _mm512_add_ps(unsafe { _mm512_maskz_loadu_ps(mask, out) }, bias)
            } else {
                bias
            };
            for (&at, &wv) in taps.iter().zip(job.weights) {
                // SAFETY: each tap's run of LANES values lies inside `buf` (the scratch
                // rows carry LANES values of slack).
                let v = unsafe { _mm512_loadu_ps(src.add(at + ox)) };
                acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_set1_ps(wv), v));
            }
            if job.affine.is_some() {
                acc = _mm512_add_ps(_mm512_mul_ps(acc, scale), shift);
            }
            acc = _mm512_min_ps(hi, _mm512_max_ps(lo, acc));
            // SAFETY: the mask writes the `n` values of `row` from `ox`.
            unsafe { _mm512_mask_storeu_ps(out, mask, acc) };
            ox += n;
        }
    }
}

/// # Safety
/// The CPU must have AVX2 and FMA; `buf` holds the scratch plane `s` describes.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn plane_avx2(
    job: &Plane<'_>,
    s: &Scratch,
    buf: &[f32],
    epi: &Epilogue,
    dst: &mut [f32],
) {
    let ow = s.ow;
    let (lo, hi) = (_mm256_set1_ps(epi.min), _mm256_set1_ps(epi.max));
    let bias = _mm256_set1_ps(job.bias);
    let (sc, sh) = job.affine.unwrap_or((1.0, 0.0));
    let (scale, shift) = (_mm256_set1_ps(sc), _mm256_set1_ps(sh));
    let taps = &s.taps[..job.weights.len()];
    let mut tail = [0f32; LANES];
    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
        let src = buf[oy * s.row_step..].as_ptr();
        let mut ox = 0;
        while ox < ow {
            let n = LANES.min(ow - ox);
            let out = if n == LANES {
                row[ox..].as_mut_ptr()
            } else {
                tail[..n].copy_from_slice(&row[ox..ox + n]);
                tail.as_mut_ptr()
            };
            let (mut a0, mut a1) = (bias, bias);
            if epi.accumulate {
                // SAFETY: `out` holds LANES readable values (the row or `tail`).
                unsafe {
                    a0 = _mm256_add_ps(_mm256_loadu_ps(out), bias);
                    a1 = _mm256_add_ps(_mm256_loadu_ps(out.add(8)), bias);
                }
            }
            for (&at, &wv) in taps.iter().zip(job.weights) {
                let w = _mm256_set1_ps(wv);
                // SAFETY: as in `plane_avx512`.
                unsafe {
                    let p = src.add(at + ox);
                    a0 = _mm256_add_ps(a0, _mm256_mul_ps(w, _mm256_loadu_ps(p)));
                    a1 = _mm256_add_ps(a1, _mm256_mul_ps(w, _mm256_loadu_ps(p.add(8))));
                }
            }
            if job.affine.is_some() {
                a0 = _mm256_add_ps(_mm256_mul_ps(a0, scale), shift);
                a1 = _mm256_add_ps(_mm256_mul_ps(a1, scale), shift);
            }
            a0 = _mm256_min_ps(hi, _mm256_max_ps(lo, a0));
            a1 = _mm256_min_ps(hi, _mm256_max_ps(lo, a1));
            // SAFETY: `out` holds LANES writable values.
            unsafe {
                _mm256_storeu_ps(out, a0);
                _mm256_storeu_ps(out.add(8), a1);
            }
            if n < LANES {
                row[ox..ox + n].copy_from_slice(&tail[..n]);
            }
            ox += n;
        }
    }
}
