//! Byte lookup tables: `dst[i] = table[src[i]]` over 256 entries, the kernel of int8 ops that
//! compute an elementwise function of codes (`burnish::QLut`). With AVX-512 VBMI, 64 bytes per
//! two `vpermi2b` (one per half of the table) and a blend on the index's top bit.

/// `dst[i] = table[src[i]]` (`dst` and `src` of one length).
///
/// # Panics
/// When the lengths differ.
pub fn lookup(table: &[u8; 256], src: &[u8], dst: &mut [u8]) {
    assert_eq!(src.len(), dst.len(), "lookup lengths");
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx512vbmi {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI (probed).
        return unsafe { lookup_vbmi(table, src, dst) };
    }
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = table[usize::from(s)];
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lookup_vbmi(table: &[u8; 256], src: &[u8], dst: &mut [u8]) {
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_mask_blend_epi8, _mm512_movepi8_mask,
        _mm512_permutex2var_epi8, _mm512_storeu_si512,
    };
    // SAFETY: `table` holds 256 bytes: four 64-byte loads.
    let t: [__m512i; 4] =
        std::array::from_fn(|i| unsafe { _mm512_loadu_si512(table.as_ptr().add(64 * i).cast()) });
    let mut chunks = src.chunks_exact(64).zip(dst.chunks_exact_mut(64));
    for (s, d) in &mut chunks {
        // SAFETY: `s` and `d` hold 64 bytes each.
        unsafe {
            let x = _mm512_loadu_si512(s.as_ptr().cast());
            let lo = _mm512_permutex2var_epi8(t[0], x, t[1]);
            let hi = _mm512_permutex2var_epi8(t[2], x, t[3]);
            let y = _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), lo, hi);
            _mm512_storeu_si512(d.as_mut_ptr().cast(), y);
        }
    }
    let done = src.len() / 64 * 64;
    for (d, &s) in dst[done..].iter_mut().zip(&src[done..]) {
        *d = table[usize::from(s)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_ragged_lengths_match_the_table() {
        let table: [u8; 256] = std::array::from_fn(|i| (i * 167 + 13) as u8);
        for len in [0, 1, 63, 64, 65, 256, 1000] {
            let src: Vec<u8> = (0..len).map(|i| (i * 89 + 7) as u8).collect();
            let mut dst = vec![0u8; len];
            lookup(&table, &src, &mut dst);
            for (s, d) in src.iter().zip(&dst) {
                assert_eq!(*d, table[usize::from(*s)]);
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut dst = vec![0u8; 256];
        lookup(&table, &all, &mut dst);
        assert_eq!(dst, table);
    }
}
