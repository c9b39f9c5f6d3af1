//! AVX-512 VNNI direct-convolution microkernel: the quad layout of the `vpmaddubsw` kernel
//! (u8 codes, four input channels per 32-bit word), with one `vpdpbusd` per 8 pixels and output
//! channel instead of `vpmaddubsw` + `vpmaddwd` + `vpaddd`. `vpdpbusd` adds the four u8 x i8
//! products of a word into the i32 lane without intermediate saturation, so every 8-bit weight
//! is exact, not only 7-bit ones.
//!
//! Per reduction step: two 256-bit loads bring 16 output pixels x 4 channels of u8 codes, six
//! `vpbroadcastd` the quads' weights of six output channels, and twelve `vpdpbusd` add them into
//! twelve i32 accumulators (the EVEX 256-bit form: AVX-512 VNNI with VL).

use std::arch::x86_64::{_mm256_dpbusd_epi32, _mm256_loadu_si256, _mm256_set1_epi32};

use super::avx2::{finish, start};
use super::{MR, Rows, Tile};

/// Sums the first `R` rows of an `MR x NR` tile, from `init`, over `steps` steps of four
/// channels each: u8 codes x i8 weights.
///
/// # Safety
/// The CPU supports AVX2, AVX-512 VNNI and AVX-512 VL; `panel` holds `steps * MR` words; both
/// halves of every row of `b` for `steps` steps hold `2 * NR` readable bytes.
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
pub(crate) unsafe fn tile_quads<const R: usize>(
    steps: usize,
    panel: &[u32],
    b: Rows<'_, u8>,
    init: &[i32; MR],
) -> Tile {
    debug_assert!(R <= MR && panel.len() >= steps * MR);
    let mut acc = start::<R>(init);
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
                pair[0] = _mm256_dpbusd_epi32(pair[0], b0, w);
                pair[1] = _mm256_dpbusd_epi32(pair[1], b1, w);
            }
            pa = pa.add(MR);
        }
    }
    finish(&acc)
}
