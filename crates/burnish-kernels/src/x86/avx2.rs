//! AVX2 microkernel with exact products.
//!
//! `vpmaddubsw` (u8 x i8 -> i16 pair sums) saturates: 255*127 + 255*127 = 64770 does not fit
//! in i16, so results would silently differ from the integer reference for large activations.
//! This kernel instead works on 16-bit lanes (activations zero-extended to u16 when A is
//! packed, weights kept as bytes and sign-extended with `vpmovsxbw` as they are loaded) and
//! multiplies with `vpmaddwd` (i16 x i16 -> i32 pair sums), which is exact for every u8/i8
//! input, including weight -128, with no range restriction.
//!
//! The cost: packed A is twice as large and each B load takes one extra shuffle. Multiplies per
//! multiply-add are the same as on the saturating route, whose `vpmaddubsw` needs a second
//! `vpmaddwd` (against ones) to widen its i16 pair sums to i32 (32 MACs per two multiplies
//! either way), but the exact loop issues more instructions per multiply-add and measures about
//! 0.8x the saturating one on Zen 3; weights in `-64..=63` take that route instead
//! (`maddubs.rs`). Packed weights stay one byte each.

use std::arch::x86_64::{
    __m128i, __m256i, _mm_loadu_si128, _mm256_add_epi32, _mm256_cvtepi8_epi16, _mm256_loadu_si256,
    _mm256_madd_epi16, _mm256_set1_epi32, _mm256_setzero_si256, _mm256_storeu_si256,
};

/// Rows per tile.
pub(super) const MR: usize = 6;
/// Columns per tile (two 8-lane vectors).
pub(super) const NR: usize = 16;

/// The exact kernel: `vpmaddwd` on sign-extended 16-bit products.
///
/// # Safety
/// As [`crate::kernel::MicroKernel`]; the CPU supports AVX2 (the kernel table only hands it
/// out when AVX2 was detected).
#[target_feature(enable = "avx2")]
pub(super) unsafe fn ukernel_avx2(
    kg: usize,
    a: *const u32,
    a_stride: usize,
    b: *const u8,
    c: *mut i32,
    c_stride: usize,
) {
    let mut acc = [[_mm256_setzero_si256(); 2]; MR];
    for (i, row) in acc.iter_mut().enumerate() {
        // SAFETY: row `i < MR` of the tile holds 16 values; two 8-lane loads read them.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m256i>();
            *row = [_mm256_loadu_si256(cp), _mm256_loadu_si256(cp.add(1))];
        }
    }
    for g in 0..kg {
        // SAFETY: `g < kg`, so bytes `g * 2 * NR .. (g + 1) * 2 * NR` of `b` are in bounds.
        let (b0, b1) = unsafe {
            let bp = b.add(g * 2 * NR).cast::<__m128i>();
            (
                _mm256_cvtepi8_epi16(_mm_loadu_si128(bp)),
                _mm256_cvtepi8_epi16(_mm_loadu_si128(bp.add(1))),
            )
        };
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: row `i < MR` of `a` holds `kg > g` words.
            let aw = unsafe { a.add(i * a_stride + g).read() };
            let av = _mm256_set1_epi32(aw as i32);
            row[0] = _mm256_add_epi32(row[0], _mm256_madd_epi16(av, b0));
            row[1] = _mm256_add_epi32(row[1], _mm256_madd_epi16(av, b1));
        }
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row `i < MR` of the tile holds 16 values; two 8-lane stores fill them.
        unsafe {
            let cp = c.add(i * c_stride).cast::<__m256i>();
            _mm256_storeu_si256(cp, row[0]);
            _mm256_storeu_si256(cp.add(1), row[1]);
        }
    }
}
