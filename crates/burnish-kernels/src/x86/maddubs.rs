//! AVX2 microkernel for 7-bit weights: the `vpmaddubsw` route.
//!
//! `vpmaddubsw` multiplies 32 u8 activations by 32 i8 weights and adds adjacent pairs into
//! saturating i16 lanes. With every weight in `-64..=63` a pair sum lies in
//! `-32640..=32130`, so it never saturates and the instruction is exact; a `vpmaddwd` against
//! ones then adds pairs of those into i32 and a `vpaddd` accumulates. That is three
//! instructions per 32 multiply-adds, against two per 16 (plus a sign extension per weight
//! load) on the exact route ([`super::avx2`]), and A packs four bytes per word instead of two
//! u16 lanes. [`crate::PackedB`] picks this kernel by itself when the weights allow it.

use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_maddubs_epi16,
    _mm256_set1_epi16, _mm256_set1_epi32, _mm256_setzero_si256, _mm256_storeu_si256,
};

/// Rows per tile.
pub(super) const MR: usize = 6;
/// 8-lane vectors per tile row.
const NV: usize = 2;
/// Columns per tile.
pub(super) const NR: usize = 8 * NV;

/// # Safety
/// As [`crate::kernel::MicroKernel`]; the CPU supports AVX2 and every weight byte of `b` lies
/// in `-64..=63`.
pub(super) unsafe fn ukernel(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    // SAFETY: the table only hands this kernel out when AVX2 was detected, and `PackedB` only
    // selects it for 7-bit weights; the pointer contract is the caller's.
    unsafe { tile::<MR, NV>(kg, a, a_stride, b, c, c_stride) }
}

#[target_feature(enable = "avx2")]
unsafe fn tile<const R: usize, const V: usize>(
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
    for g in 0..kg {
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
