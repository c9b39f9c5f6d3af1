//! AVX2 microkernels for narrow weights: the `vpmaddubsw` routes.
//!
//! `vpmaddubsw` multiplies 32 u8 activations by 32 i8 weights and adds adjacent pairs into
//! saturating i16 lanes. With every weight in `-64..=63` a pair sum lies in
//! `-32640..=32130`, so it never saturates and the instruction is exact; a `vpmaddwd` against
//! ones then adds pairs of those into i32 and a `vpaddd` accumulates. That is three
//! instructions per 32 multiply-adds, against two per 16 (plus a sign extension per weight
//! load) on the exact route ([`super::avx2`]), and A packs four bytes per word instead of two
//! u16 lanes ([`tile`] unpaired, 7-bit weights).
//!
//! With every weight in `-32..=31` (6-bit weights) a pair sum lies in `-16320..=15810`, so the
//! sum of two `vpmaddubsw` results, one per depth group, still fits an i16 exactly
//! (`-32640..=31620`): the paired [`tile`] walks the groups two at a time and adds the two results
//! with `vpaddw` before the one `vpmaddwd` widening. That is three multiply-port instructions
//! per 64 multiply-adds instead of four. Both kernels share the packed B layout and the tile
//! code (a const generic picks the loop); the 6-bit tile has fewer rows ([`MR_6BIT`]).
//! [`crate::PackedB`] picks them by itself when the weights allow it.

use std::arch::x86_64::{
    __m256i, _mm256_add_epi16, _mm256_add_epi32, _mm256_loadu_si256, _mm256_madd_epi16,
    _mm256_maddubs_epi16, _mm256_set1_epi16, _mm256_set1_epi32, _mm256_setzero_si256,
    _mm256_storeu_si256,
};

/// Rows per tile.
pub(super) const MR: usize = 6;
/// Rows per tile of the 6-bit kernel: with two groups' weights (four vectors) live, six rows'
/// twelve accumulators no longer fit the sixteen ymm registers and five spill to the stack
/// (one Zen 3 core, data in L1, best of 40 interleaved rounds: 6 x 16 ran 109 G
/// multiply-adds/s, 4 x 16 116 G, against 93 G for the 7-bit 6 x 16 tile; the 6-bit ceiling
/// on two multiply pipes is 4/3 of the 7-bit one).
pub(super) const MR_6BIT: usize = 4;
/// 8-lane vectors per tile row.
pub(super) const NV: usize = 2;
/// Columns per tile.
pub(super) const NR: usize = 8 * NV;

/// One `R` x `8 * V` tile: the 7-bit kernel (`PAIRED` false: one `vpmaddubsw` + `vpmaddwd`
/// per depth group) and the 6-bit kernel (`PAIRED`: two depth groups' `vpmaddubsw` results
/// added in i16 with `vpaddw`, then one `vpmaddwd`; an odd last group runs alone).
///
/// # Safety
/// As [`crate::kernel::MicroKernel`]; the CPU supports AVX2 (the kernel table only hands it out
/// when AVX2 was detected), and every weight byte of `b` lies in `-64..=63`, or in `-32..=31`
/// when `PAIRED` (so two groups' i16 sums cannot saturate): `PackedB` selects each route only
/// for such weights.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn tile<const R: usize, const V: usize, const PAIRED: bool>(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    let nr = 8 * V;
    let mut acc = [[_mm256_setzero_si256(); V]; R];
    for (i, row) in acc.iter_mut().enumerate() {
        for (v, lane) in row.iter_mut().enumerate() {
            // SAFETY: row `i < R` of the tile holds `nr` values, vector `v < V` 8 of them.
            *lane = unsafe { _mm256_loadu_si256(c.add(i * c_stride + 8 * v).cast()) };
        }
    }
    let ones = _mm256_set1_epi16(1);
    let mut g = 0;
    if PAIRED {
        while g + 1 < kg {
            let mut b0 = [_mm256_setzero_si256(); V];
            let mut b1 = [_mm256_setzero_si256(); V];
            for (v, (w0, w1)) in b0.iter_mut().zip(&mut b1).enumerate() {
                // SAFETY: `g + 1 < kg`, so both groups' `4 * nr` bytes are in bounds.
                unsafe {
                    *w0 = _mm256_loadu_si256(b.add(g * 4 * nr + 32 * v).cast());
                    *w1 = _mm256_loadu_si256(b.add((g + 1) * 4 * nr + 32 * v).cast());
                }
            }
            for (i, row) in acc.iter_mut().enumerate() {
                // SAFETY: row `i < R` of `a` holds `kg > g + 1` words.
                let (a0, a1) = unsafe {
                    let p = a.add(i * a_stride + g);
                    (p.read() as i32, p.add(1).read() as i32)
                };
                let (a0, a1) = (_mm256_set1_epi32(a0), _mm256_set1_epi32(a1));
                for ((lane, &w0), &w1) in row.iter_mut().zip(&b0).zip(&b1) {
                    let pairs = _mm256_add_epi16(
                        _mm256_maddubs_epi16(a0, w0),
                        _mm256_maddubs_epi16(a1, w1),
                    );
                    *lane = _mm256_add_epi32(*lane, _mm256_madd_epi16(pairs, ones));
                }
            }
            g += 2;
        }
    }
    for g in g..kg {
        let mut bv = [_mm256_setzero_si256(); V];
        for (v, w) in bv.iter_mut().enumerate() {
            // SAFETY: `g < kg`, so the group's `4 * nr` bytes at `g * 4 * nr` are in bounds.
            *w = unsafe { _mm256_loadu_si256(b.add(g * 4 * nr + 32 * v).cast()) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `i < R` of `a` holds `kg > g` words.
            let av = _mm256_set1_epi32(unsafe { a.add(i * a_stride + g).read() } as i32);
            for (lane, &w) in row.iter_mut().zip(&bv) {
                let pairs = _mm256_maddubs_epi16(av, w);
                *lane = _mm256_add_epi32(*lane, _mm256_madd_epi16(pairs, ones));
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        for (v, lane) in row.iter().enumerate() {
            // SAFETY: row `i < R` of the tile holds `nr` values, vector `v < V` 8 of them.
            unsafe { _mm256_storeu_si256(c.add(i * c_stride + 8 * v).cast::<__m256i>(), *lane) };
        }
    }
}
