//! AVX2 direct-convolution microkernel and requantizing epilogue.
//!
//! Per reduction step (one channel pair at one kernel tap): two 256-bit loads bring 16 output
//! pixels x 2 channels of i16 input, six `vpbroadcastd` bring the pair's weights of six output
//! channels, and twelve `vpmaddwd` + `vpaddd` add `x0 * w0 + x1 * w1` into twelve i32
//! accumulators (exact: both factors fit i16 and a pair sum fits i32).

use std::arch::x86_64::*;

use super::epilogue::{OutputScale, Place, Requantize};
use super::{MR, NR, Rows, Tile};
use crate::QuantOutput;
use crate::pack::Activation;

/// The accumulators of the first `R` rows of a tile, every pixel of row `r` starting at
/// `init[r]`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn start<const R: usize>(init: &[i32; MR]) -> [[__m256i; 2]; R] {
    let mut acc = [[_mm256_setzero_si256(); 2]; R];
    for (pair, &v) in acc.iter_mut().zip(init) {
        *pair = [_mm256_set1_epi32(v); 2];
    }
    acc
}

/// The tile of `R` rows of accumulators (lanes 0..8 pixels 0..8, then 8..16); rows past `R`
/// are zero.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn finish<const R: usize>(acc: &[[__m256i; 2]; R]) -> Tile {
    let mut out = [[0i32; NR]; MR];
    for (row, pair) in out.iter_mut().zip(acc) {
        // SAFETY: `row` holds NR = 16 i32, two 8-lane stores.
        unsafe {
            _mm256_storeu_si256(row.as_mut_ptr().cast(), pair[0]);
            _mm256_storeu_si256(row.as_mut_ptr().add(8).cast(), pair[1]);
        }
    }
    out
}

/// Sums the first `R` (at most `MR`) rows of an `MR x NR` tile over `steps` reduction steps,
/// from `init`. Panels whose last output channels end early run a smaller `R`.
///
/// # Safety
/// The CPU supports AVX2; `panel` holds `steps * MR` words; both halves of every row of `b`
/// for `steps` steps hold `NR` readable i16 values.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn tile<const R: usize>(
    steps: usize,
    panel: &[u32],
    b: Rows<'_, i16>,
    init: &[i32; MR],
) -> Tile {
    debug_assert!(R <= MR && panel.len() >= steps * MR);
    let mut acc = start::<R>(init);
    let mut pa = panel.as_ptr();
    for s in 0..steps {
        let (h0, h1) = b.halves(s);
        // SAFETY: step `s < steps`: the panel holds MR words at `pa`, the caller guarantees
        // NR readable i16 at `h0` and at `h1`.
        unsafe {
            let b0 = _mm256_loadu_si256(h0.cast());
            let b1 = _mm256_loadu_si256(h1.cast());
            for (r, pair) in acc.iter_mut().enumerate() {
                let w = _mm256_set1_epi32(pa.add(r).read() as i32);
                pair[0] = _mm256_add_epi32(pair[0], _mm256_madd_epi16(w, b0));
                pair[1] = _mm256_add_epi32(pair[1], _mm256_madd_epi16(w, b1));
            }
            pa = pa.add(MR);
        }
    }
    finish(&acc)
}

/// Sums the first `R` rows of an `MR x NR` tile, from `init`, over `steps` steps of four
/// channels each, u8 codes x 7-bit weights: `vpmaddubsw` adds two u8 x i8 products into an i16
/// (exact: `2 * 255 * 64 < 2^15`), and a `vpmaddwd` against ones adds two of those into the i32
/// accumulator.
///
/// # Safety
/// The CPU supports AVX2; `panel` holds `steps * MR` words of weights in `-64..=63`; both
/// halves of every row of `b` for `steps` steps hold `2 * NR` readable bytes.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn tile_quads<const R: usize>(
    steps: usize,
    panel: &[u32],
    b: Rows<'_, u8>,
    init: &[i32; MR],
) -> Tile {
    debug_assert!(R <= MR && panel.len() >= steps * MR);
    let mut acc = start::<R>(init);
    let ones = _mm256_set1_epi16(1);
    let mut pa = panel.as_ptr();
    for s in 0..steps {
        let (h0, h1) = b.halves(s);
        // SAFETY: step `s < steps`: the panel holds MR words at `pa`, the caller guarantees
        // 2 * NR readable bytes at `h0` and at `h1`.
        unsafe {
            let b0 = _mm256_loadu_si256(h0.cast());
            let b1 = _mm256_loadu_si256(h1.cast());
            for (r, pair) in acc.iter_mut().enumerate() {
                let w = _mm256_set1_epi32(pa.add(r).read() as i32);
                let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(b0, w), ones);
                let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(b1, w), ones);
                pair[0] = _mm256_add_epi32(pair[0], p0);
                pair[1] = _mm256_add_epi32(pair[1], p1);
            }
            pa = pa.add(MR);
        }
    }
    finish(&acc)
}

/// Requantizes the rows of a tile (`p.cols` of its `NR` pixels) and writes them; a narrower
/// block computes all `NR` lanes and writes its `p.cols`.
///
/// # Safety
/// The CPU supports AVX2; `p.cols <= NR`; rows `0..p.rows` of `p.cols` elements at
/// `out + p.at + r * p.stride` are inside the output, which no other thread accesses now; the
/// residual (when present) is as long as the output.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn store_quant<O: QuantOutput, Z: Activation>(
    tile: &Tile,
    p: Place,
    out: *mut O,
    rq: &Requantize<'_, Z>,
) {
    debug_assert!(p.cols <= NR);
    let full = p.cols == NR;
    let lo = _mm256_set1_ps((rq.min - rq.zero_point) as f32);
    let hi = _mm256_set1_ps((rq.max - rq.zero_point) as f32);
    let zp = _mm256_set1_epi32(rq.zero_point);
    for (r, row) in tile.iter().enumerate().take(p.rows) {
        let c = p.channel + r;
        let at = p.at + r * p.stride;
        // SAFETY: `row` holds 16 i32.
        let (a0, a1) = unsafe {
            (
                _mm256_loadu_si256(row.as_ptr().cast()),
                _mm256_loadu_si256(row.as_ptr().add(8).cast()),
            )
        };
        let (v0, v1) = match rq.scale {
            OutputScale::Int { multiplier, bias } => {
                let b = _mm256_set1_epi32(bias.map_or(0, |b| b[c]));
                let m = _mm256_set1_ps(multiplier[c]);
                (
                    _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a0, b)), m),
                    _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(a1, b)), m),
                )
            }
            OutputScale::Float {
                scale,
                bias,
                y_scale,
            } => {
                let s = _mm256_set1_ps(scale[c]);
                let mut v0 = _mm256_mul_ps(_mm256_cvtepi32_ps(a0), s);
                let mut v1 = _mm256_mul_ps(_mm256_cvtepi32_ps(a1), s);
                if let Some(b) = bias {
                    let b = _mm256_set1_ps(b[c]);
                    v0 = _mm256_add_ps(v0, b);
                    v1 = _mm256_add_ps(v1, b);
                }
                if let Some(res) = &rq.residual {
                    let zz = _mm256_set1_epi32(i32::from(res.zero_point.to_offset_u8()));
                    let zs = _mm256_set1_ps(res.scale);
                    let codes = &res.codes[at..at + p.cols];
                    let flip = _mm_set1_epi8(super::interleave::flip(&codes[0]));
                    let mut part = [0u8; NR];
                    let src = if full {
                        codes.as_ptr().cast::<u8>()
                    } else {
                        // SAFETY: `codes` holds `p.cols <= NR` one-byte elements.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                codes.as_ptr().cast::<u8>(),
                                part.as_mut_ptr(),
                                p.cols,
                            )
                        };
                        part.as_ptr()
                    };
                    // SAFETY: `src` holds NR = 16 bytes (the residual's, or `part`).
                    let z = _mm_xor_si128(unsafe { _mm_loadu_si128(src.cast()) }, flip);
                    let z0 = _mm256_cvtepu8_epi32(z);
                    let z1 = _mm256_cvtepu8_epi32(_mm_unpackhi_epi64(z, z));
                    let d0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(z0, zz));
                    let d1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(z1, zz));
                    v0 = _mm256_add_ps(v0, _mm256_mul_ps(d0, zs));
                    v1 = _mm256_add_ps(v1, _mm256_mul_ps(d1, zs));
                }
                let ys = _mm256_set1_ps(y_scale);
                (_mm256_div_ps(v0, ys), _mm256_div_ps(v1, ys))
            }
        };
        // `max(v, lo)` returns `lo` for NaN like `f32::max`; the default rounding mode of
        // `cvtps2dq` is round half to even.
        let q0 = _mm256_add_epi32(
            _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v0, lo), hi)),
            zp,
        );
        let q1 = _mm256_add_epi32(
            _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v1, lo), hi)),
            zp,
        );
        // Codes are within the output type's range: pack to i16 (lane order fixed by the
        // permute), then to bytes with the type's own saturation (which never triggers).
        let w = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(q0, q1));
        let (w0, w1) = (_mm256_castsi256_si128(w), _mm256_extracti128_si256::<1>(w));
        let bytes = if O::MIN < 0 {
            _mm_packs_epi16(w0, w1)
        } else {
            _mm_packus_epi16(w0, w1)
        };
        if full {
            // SAFETY: row `r` of the tile's region: NR = 16 one-byte elements at `out + at`.
            unsafe { _mm_storeu_si128(out.add(at).cast(), bytes) };
        } else {
            let mut part = [0u8; NR];
            // SAFETY: `part` holds 16 bytes; row `r` of the region holds `p.cols` one-byte
            // elements at `out + at`.
            unsafe {
                _mm_storeu_si128(part.as_mut_ptr().cast(), bytes);
                std::ptr::copy_nonoverlapping(part.as_ptr(), out.add(at).cast::<u8>(), p.cols);
            }
        }
    }
}
