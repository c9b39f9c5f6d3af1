//! The depthwise plane loop with explicit vectors: `LANES` outputs
//! in one `zmm` or two `ymm` accumulators, each tap a broadcast multiply and an add (no FMA, like
//! the portable `plane_out`). The AVX-512 loop takes `GROUP` output vectors of a row at a time,
//! so that many add chains run side by side.

/// Output vectors computed together by the AVX-512 loop.
const GROUP: usize = 4;

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
    let rows = dst.len() / ow.max(1);
    let mask = |n: usize| -> __mmask16 { if n >= LANES { !0 } else { (1u16 << n) - 1 } };
    let src = |oy: usize, ox: usize| buf[oy * s.row_step + ox..].as_ptr();
    let out = dst.as_mut_ptr();
    let mut oy = 0;
    while oy < rows {
        let live = s.live[oy].clone();
        let (taps, weights) = (&s.taps[live.clone()], &job.weights[live.clone()]);
        // SAFETY (for every call below): the vectors are outputs of this plane, row `oy` (and
        // `oy + 1`), columns `ox..` with the masked lanes valid; their taps read scratch rows
        // with LANES values of slack.
        if ow < GROUP * LANES && oy + 1 < rows && s.live[oy + 1] == live {
            // Short rows: two rows at a time, up to two vectors of each.
            let mut ox = 0;
            while ox < ow {
                let (n0, n1) = (
                    (ow - ox).min(LANES),
                    (ow - ox).saturating_sub(LANES).min(LANES),
                );
                let at = |r: usize, c: usize| unsafe { out.add((oy + r) * ow + ox + c) };
                if n1 > 0 {
                    unsafe {
                        vectors::<4>(
                            job,
                            (taps, weights),
                            epi,
                            [
                                src(oy, ox),
                                src(oy + 1, ox),
                                src(oy, ox + LANES),
                                src(oy + 1, ox + LANES),
                            ],
                            [at(0, 0), at(1, 0), at(0, LANES), at(1, LANES)],
                            [mask(n0), mask(n0), mask(n1), mask(n1)],
                        )
                    };
                } else {
                    unsafe {
                        vectors::<2>(
                            job,
                            (taps, weights),
                            epi,
                            [src(oy, ox), src(oy + 1, ox)],
                            [at(0, 0), at(1, 0)],
                            [mask(n0), mask(n0)],
                        )
                    };
                }
                ox += n0 + n1;
            }
            oy += 2;
            continue;
        }
        let at = |ox: usize| unsafe { out.add(oy * ow + ox) };
        let mut ox = 0;
        while ox + GROUP * LANES <= ow {
            let srcs = std::array::from_fn(|g| src(oy, ox + g * LANES));
            let outs = std::array::from_fn(|g| at(ox + g * LANES));
            unsafe { vectors::<GROUP>(job, (taps, weights), epi, srcs, outs, [!0; GROUP]) };
            ox += GROUP * LANES;
        }
        while ox < ow {
            let n = LANES.min(ow - ox);
            unsafe {
                vectors::<1>(
                    job,
                    (taps, weights),
                    epi,
                    [src(oy, ox)],
                    [at(ox)],
                    [mask(n)],
                )
            };
            ox += n;
        }
        oy += 1;
    }
}

/// `G` output vectors of one plane that share their live taps, each its own chain of adds:
/// bias (plus the residual), the taps in order, then the scale and shift and the clamps.
///
/// # Safety
/// The CPU must have AVX-512F; each `src` reads LANES values at every tap offset; each `out`
/// holds the lanes its mask admits.
#[inline(always)]
unsafe fn vectors<const G: usize>(
    job: &Plane<'_>,
    (taps, weights): (&[usize], &[f32]),
    epi: &Epilogue,
    src: [*const f32; G],
    out: [*mut f32; G],
    masks: [__mmask16; G],
) {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        let bias = _mm512_set1_ps(job.bias);
        let mut acc = [bias; G];
        if epi.accumulate {
            for g in 0..G {
                acc[g] = _mm512_add_ps(_mm512_maskz_loadu_ps(masks[g], out[g]), bias);
            }
        }
        for (&tap, &wv) in taps.iter().zip(weights) {
            let w = _mm512_set1_ps(wv);
            for g in 0..G {
                acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(w, _mm512_loadu_ps(src[g].add(tap))));
            }
        }
        let (lo, hi) = (_mm512_set1_ps(epi.min), _mm512_set1_ps(epi.max));
        for g in 0..G {
            let mut a = acc[g];
            if let Some((sc, sh)) = job.affine {
                a = _mm512_add_ps(_mm512_mul_ps(a, _mm512_set1_ps(sc)), _mm512_set1_ps(sh));
            }
            _mm512_mask_storeu_ps(out[g], masks[g], _mm512_min_ps(hi, _mm512_max_ps(lo, a)));
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
    let mut tail = [0f32; LANES];
    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
        let src = buf[oy * s.row_step..].as_ptr();
        let live = s.live[oy].clone();
        let (taps, weights) = (&s.taps[live.clone()], &job.weights[live]);
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
            for (&at, &wv) in taps.iter().zip(weights) {
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
