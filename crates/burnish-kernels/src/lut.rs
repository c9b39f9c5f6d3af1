//! Byte lookup tables: `dst[i] = table[src[i]]` over 256 entries, the kernel of int8 ops that
//! compute an elementwise function of codes (`burnish::QLut`). With AVX-512 VBMI, 64 bytes per
//! two `vpermi2b` (one per half of the table) and a blend on the index's top bit.
//!
//! Two-input functions (`burnish::QLut2`) use a 65,536-entry [`Table2`]; where one input holds
//! one code over a run of the other (a per-channel gate broadcast over a plane), that code
//! selects a 256-entry row and the run takes the one-input kernel.

use crate::KernelError;

/// A function of two codes, `t[a << 8 | b]`. Held fixed, `a` selects a contiguous 256-entry
/// row; for a fixed `b` the table is transposed once, on first use.
#[derive(Debug, Clone)]
pub struct Table2 {
    by_a: Vec<[u8; 256]>,
    by_b: std::sync::OnceLock<Vec<[u8; 256]>>,
}

impl Table2 {
    /// The table `t[a << 8 | b]` (65,536 entries).
    pub fn new(t: Vec<u8>) -> Result<Self, KernelError> {
        crate::pack::check_len("two-input table", 1 << 16, t.len())?;
        Ok(Self {
            by_a: t
                .chunks_exact(256)
                .map(|row| std::array::from_fn(|b| row[b]))
                .collect(),
            by_b: std::sync::OnceLock::new(),
        })
    }

    fn by_b(&self) -> &[[u8; 256]] {
        self.by_b.get_or_init(|| {
            let mut by_b = vec![[0u8; 256]; 256];
            for (a, row) in self.by_a.iter().enumerate() {
                for (b, &v) in row.iter().enumerate() {
                    by_b[b][a] = v;
                }
            }
            by_b
        })
    }

    /// `dst[i] = t[a[i], b[i]]` (all three of one length).
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn pairs(&self, a: &[u8], b: &[u8], dst: &mut [u8]) {
        assert!(
            a.len() == dst.len() && b.len() == dst.len(),
            "lookup lengths"
        );
        for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
            *d = self.by_a[usize::from(x)][usize::from(y)];
        }
    }

    /// `dst[i] = t[a[i], b]`: `b` fixed over the run.
    pub fn fixed_b(&self, a: &[u8], b: u8, dst: &mut [u8]) {
        lookup(&self.by_b()[usize::from(b)], a, dst);
    }

    /// `dst[i] = t[a, b[i]]`: `a` fixed over the run.
    pub fn fixed_a(&self, a: u8, b: &[u8], dst: &mut [u8]) {
        lookup(&self.by_a[usize::from(a)], b, dst);
    }
}

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

    #[test]
    fn a_fixed_input_reads_the_same_entries_as_the_pairs() {
        let f = |a: usize, b: usize| (a * 31 + b * 7 + a * b / 5) as u8;
        let t = Table2::new((0..1 << 16).map(|i| f(i >> 8, i & 255)).collect()).unwrap();
        let run: Vec<u8> = (0..300).map(|i| (i * 89 + 7) as u8).collect();
        let mut got = vec![0u8; run.len()];
        for code in [0u8, 1, 127, 128, 200, 255] {
            t.fixed_b(&run, code, &mut got);
            assert!(
                run.iter()
                    .zip(&got)
                    .all(|(&a, &g)| g == f(a.into(), code.into()))
            );
            t.fixed_a(code, &run, &mut got);
            assert!(
                run.iter()
                    .zip(&got)
                    .all(|(&b, &g)| g == f(code.into(), b.into()))
            );
            let fixed = vec![code; run.len()];
            t.pairs(&run, &fixed, &mut got);
            assert!(
                run.iter()
                    .zip(&got)
                    .all(|(&a, &g)| g == f(a.into(), code.into()))
            );
        }
        assert!(Table2::new(vec![0; 256]).is_err());
    }
}
