//! Splitting a run into its stride phases (even- and odd-indexed values), the first step of
//! every stride-2 kernel that wants contiguous vector reads (depthwise convolution, pooling).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Splits `line` into its even- and odd-indexed values (`evens`/`odds` hold at least
/// `line.len().div_ceil(2)` and `line.len() / 2` values).
pub fn deinterleave2(line: &[f32], evens: &mut [f32], odds: &mut [f32]) {
    let pairs = line.len() / 2;
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        let f = crate::cpu::features();
        if f.avx512() {
            // SAFETY: AVX-512F is present; the routine stays inside the first `pairs` pairs.
            i = unsafe { avx512(line, evens, odds, pairs) };
        } else if f.avx2_fma() && pairs >= 8 {
            // SAFETY: AVX2 is present; the routine stays inside the first `pairs` pairs.
            i = unsafe { avx2(line, evens, odds, pairs) };
        }
    }
    for j in i..pairs {
        evens[j] = line[2 * j];
        odds[j] = line[2 * j + 1];
    }
    if line.len() % 2 == 1 {
        evens[pairs] = line[line.len() - 1];
    }
}

/// The even-indexed values of `line` into `out`: `out[j] = line[2 j]`; `line` holds at least
/// `2 out.len() - 1` values (a stride-2 view's run, as a Focus layer's `Slice` makes).
pub fn evens(line: &[f32], out: &mut [f32]) {
    assert!(out.is_empty() || line.len() > 2 * (out.len() - 1));
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx512() {
        // SAFETY: AVX-512F is present; the lengths were checked above.
        j = unsafe { evens_avx512(line, out) };
    }
    for (k, o) in out.iter_mut().enumerate().skip(j) {
        *o = line[2 * k];
    }
}

/// [`evens`] 16 outputs at a time (the last block masked, reading no value past
/// `line[2 (out.len() - 1)]`); returns `out.len()`.
///
/// # Safety
/// The CPU must have AVX-512F; `line` holds at least `2 out.len() - 1` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn evens_avx512(line: &[f32], out: &mut [f32]) -> usize {
    let n = out.len();
    let even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let mask = |k: usize| -> __mmask16 { if k >= 16 { !0 } else { (1u16 << k) - 1 } };
    let mut j = 0;
    while j < n {
        let r = (n - j).min(16);
        let reach = 2 * r - 1;
        let (m_lo, m_hi) = (mask(reach), mask(reach.saturating_sub(16)));
        // SAFETY: the masks touch values `2j..2j + 2r - 1` of `line` and `j..j + r` of `out`.
        unsafe {
            let a = _mm512_maskz_loadu_ps(m_lo, line.as_ptr().add(2 * j));
            let b = _mm512_maskz_loadu_ps(m_hi, line.as_ptr().wrapping_add(2 * j + 16));
            let e = _mm512_permutex2var_ps(a, even_idx, b);
            _mm512_mask_storeu_ps(out.as_mut_ptr().add(j), mask(r), e);
        }
        j += r;
    }
    n
}

#[cfg(target_arch = "x86_64")]
/// Splits all `pairs` pairs of `line` 16 at a time (the last block masked); returns
/// `pairs`.
///
/// # Safety
/// The CPU must have AVX-512F; `line` holds `2 * pairs` values, `evens` and `odds` `pairs`.
#[target_feature(enable = "avx512f")]
unsafe fn avx512(line: &[f32], evens: &mut [f32], odds: &mut [f32], pairs: usize) -> usize {
    assert!(line.len() >= 2 * pairs && evens.len() >= pairs && odds.len() >= pairs);
    let even_idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd_idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    let mask = |n: usize| -> __mmask16 { if n >= 16 { !0 } else { (1u16 << n) - 1 } };
    let mut j = 0;
    while j < pairs {
        let r = (pairs - j).min(16);
        let (m_lo, m_hi) = (mask(2 * r), mask((2 * r).saturating_sub(16)));
        // SAFETY: the masks touch values `2j..2(j+r)` of `line` and `j..j+r` of outputs.
        unsafe {
            let a = _mm512_maskz_loadu_ps(m_lo, line.as_ptr().add(2 * j));
            let b = _mm512_maskz_loadu_ps(m_hi, line.as_ptr().wrapping_add(2 * j + 16));
            let e = _mm512_permutex2var_ps(a, even_idx, b);
            let o = _mm512_permutex2var_ps(a, odd_idx, b);
            _mm512_mask_storeu_ps(evens.as_mut_ptr().add(j), mask(r), e);
            _mm512_mask_storeu_ps(odds.as_mut_ptr().add(j), mask(r), o);
        }
        j += r;
    }
    pairs
}

#[cfg(target_arch = "x86_64")]
/// Splits the first `pairs` pairs of `line` 8 at a time; returns the pairs done.
///
/// # Safety
/// The CPU must have AVX2; `line` holds `2 * pairs` values, `evens` and `odds` `pairs`.
#[target_feature(enable = "avx2")]
unsafe fn avx2(line: &[f32], evens: &mut [f32], odds: &mut [f32], pairs: usize) -> usize {
    assert!(line.len() >= 2 * pairs && evens.len() >= pairs && odds.len() >= pairs);
    let mut j = 0;
    while j + 8 <= pairs {
        // SAFETY: values `2j..2j+16` of `line` and `j..j+8` of the outputs exist.
        unsafe {
            let a = _mm256_loadu_ps(line.as_ptr().add(2 * j));
            let b = _mm256_loadu_ps(line.as_ptr().add(2 * j + 8));
            let e = _mm256_shuffle_ps::<0b10_00_10_00>(a, b);
            let o = _mm256_shuffle_ps::<0b11_01_11_01>(a, b);
            let e = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(e)));
            let o = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(o)));
            _mm256_storeu_ps(evens.as_mut_ptr().add(j), e);
            _mm256_storeu_ps(odds.as_mut_ptr().add(j), o);
        }
        j += 8;
    }
    j
}
