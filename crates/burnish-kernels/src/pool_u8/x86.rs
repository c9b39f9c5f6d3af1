//! The x86 loops of the u8 pool: AVX2 (32 bytes, scalar tails) and AVX-512 BW (64 bytes,
//! masked tails) reductions, and the AVX-512 even/odd split.

/// # Safety
/// The CPU has AVX2; as for [`super::Job::reduce`].
#[target_feature(enable = "avx2")]
pub(super) unsafe fn reduce_avx2(dst: *mut u8, len: usize, from: &[*const u8], signed: bool) {
    use std::arch::x86_64::*;
    let max = |a, b| {
        if signed {
            _mm256_max_epi8(a, b)
        } else {
            _mm256_max_epu8(a, b)
        }
    };
    let mut at = 0;
    while at + 32 <= len {
        // SAFETY: 32 bytes from `at < len - 31` lie within every buffer.
        unsafe {
            let mut acc = _mm256_loadu_si256(from[0].add(at).cast());
            for p in &from[1..] {
                acc = max(acc, _mm256_loadu_si256(p.add(at).cast()));
            }
            _mm256_storeu_si256(dst.add(at).cast(), acc);
        }
        at += 32;
    }
    // SAFETY: the caller's promise.
    unsafe { super::reduce_scalar(dst, at, len, from, signed) };
}

/// # Safety
/// The CPU has AVX-512 F and BW; as for [`super::Job::reduce`].
#[target_feature(enable = "avx2,avx512f,avx512bw")]
pub(super) unsafe fn reduce_avx512(dst: *mut u8, len: usize, from: &[*const u8], signed: bool) {
    use std::arch::x86_64::*;
    let max = |a, b| {
        if signed {
            _mm512_max_epi8(a, b)
        } else {
            _mm512_max_epu8(a, b)
        }
    };
    let mut at = 0;
    while at < len {
        let m: __mmask64 = if len - at >= 64 {
            !0
        } else {
            (1u64 << (len - at)) - 1
        };
        // SAFETY: the mask keeps every access below `len`.
        unsafe {
            let mut acc = _mm512_maskz_loadu_epi8(m, from[0].add(at).cast());
            for p in &from[1..] {
                acc = max(acc, _mm512_maskz_loadu_epi8(m, p.add(at).cast()));
            }
            _mm512_mask_storeu_epi8(dst.add(at).cast(), m, acc);
        }
        at += 64;
    }
}

/// [`super::Job::split2`] with AVX-512 BW, the tail masked.
///
/// # Safety
/// The CPU has AVX-512 F and BW; `even` and `odd` hold `n` bytes, `src` `2n`.
#[target_feature(enable = "avx2,avx512f,avx512bw")]
pub(super) unsafe fn split2_avx512(src: &[u8], even: &mut [u8], odd: &mut [u8], n: usize) {
    use std::arch::x86_64::*;
    let mut at = 0;
    while at < n {
        let left = n - at;
        let m: __mmask32 = if left >= 32 { !0 } else { (1u32 << left) - 1 };
        let pairs: __mmask64 = if left >= 32 {
            !0
        } else {
            (1u64 << (2 * left)) - 1
        };
        // SAFETY: the masks keep every access below `n` (phases) and `2n` (source).
        unsafe {
            let v = _mm512_maskz_loadu_epi8(pairs, src.as_ptr().add(2 * at).cast());
            let ev = _mm512_cvtepi16_epi8(v);
            let od = _mm512_cvtepi16_epi8(_mm512_srli_epi16::<8>(v));
            _mm256_mask_storeu_epi8(even.as_mut_ptr().add(at).cast(), m, ev);
            _mm256_mask_storeu_epi8(odd.as_mut_ptr().add(at).cast(), m, od);
        }
        at += 32;
    }
}
