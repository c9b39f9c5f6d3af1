//! SIMD interleaving of input lines into the microkernel layouts (`i16` pairs, `u8` quads).

use crate::pack::Activation;

/// The bits that turn a raw byte of `A` into its offset-binary code: 0 for u8, 0x80 for i8.
#[cfg(target_arch = "x86_64")]
pub(super) fn flip<A: Activation>(first: &A) -> i8 {
    // SAFETY: `A` is u8 or i8 (sealed), one byte; reading it as u8 is valid.
    let raw = unsafe { *(first as *const A).cast::<u8>() };
    (raw ^ first.to_offset_u8()) as i8
}

/// `out[2j] = l0[j * step] - zp`, `out[2j + 1] = l1[j * step] - zp` (offset-binary codes, as
/// i16) for whole blocks of 16 values that both lines can supply with full-width loads;
/// `step` is 1 or 2. Returns the values done per line.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pairs16_avx2<A: Activation>(
    out: &mut [i16],
    l0: &[A],
    l1: &[A],
    step: usize,
    zp: u8,
) -> usize {
    use std::arch::x86_64::*;
    // A block starting at value j reads bytes `j * step .. j * step + 16 * step`.
    let readable = l0.len().min(l1.len()) / (16 * step) * 16;
    let n = (out.len() / 2).min(readable) / 16 * 16;
    let Some(first) = l0.first() else {
        return 0;
    };
    let flip = flip(first);
    let zpv = _mm256_set1_epi16(i16::from(zp));
    let load = |line: &[A], j: usize| {
        // SAFETY: `j * step + 16 * step <= line.len()` (see `readable`); `A` is one byte.
        unsafe {
            let p = line.as_ptr().add(j * step);
            if step == 1 {
                let v = _mm_xor_si128(_mm_loadu_si128(p.cast()), _mm_set1_epi8(flip));
                _mm256_cvtepu8_epi16(v)
            } else {
                // Even bytes, zero-extended: the low byte of each 16-bit lane.
                let v = _mm256_xor_si256(_mm256_loadu_si256(p.cast()), _mm256_set1_epi8(flip));
                _mm256_and_si256(v, _mm256_set1_epi16(0xff))
            }
        }
    };
    for j in (0..n).step_by(16) {
        let a = _mm256_sub_epi16(load(l0, j), zpv);
        let b = _mm256_sub_epi16(load(l1, j), zpv);
        let lo = _mm256_unpacklo_epi16(a, b);
        let hi = _mm256_unpackhi_epi16(a, b);
        // SAFETY: `2 * (j + 16) <= out.len()`.
        unsafe {
            let p = out.as_mut_ptr().add(2 * j);
            _mm256_storeu_si256(p.cast(), _mm256_permute2x128_si256::<0x20>(lo, hi));
            _mm256_storeu_si256(p.add(16).cast(), _mm256_permute2x128_si256::<0x31>(lo, hi));
        }
    }
    n
}

/// `out[4j + l] = code(lines[l][start + j * step])` (offset-binary codes) for whole blocks of
/// 8 values (16 at a time where they fit, step 1) that every line can supply with full-width loads; `step` is 1 or 2. Returns the
/// values done per line.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn quads8_avx2<A: Activation>(
    out: &mut [u8],
    lines: [&[A]; 4],
    start: usize,
    step: usize,
) -> usize {
    use std::arch::x86_64::*;
    let len = lines.iter().map(|l| l.len()).min().unwrap_or(0);
    let Some(first) = lines[0].first() else {
        return 0;
    };
    let flip = _mm_set1_epi8(flip(first));
    let mut j = 0;
    if step == 1 {
        // 16 values per line at a time: full 16-byte loads, 64 bytes out.
        while 4 * (j + 16) <= out.len() && start + j + 16 <= len {
            let at = start + j;
            // SAFETY: `at + 16 <= len` bytes are readable in every line; `A` is one byte.
            let load = |line: &[A]| unsafe {
                _mm_xor_si128(_mm_loadu_si128(line.as_ptr().add(at).cast()), flip)
            };
            let (a, b, c, d) = (
                load(lines[0]),
                load(lines[1]),
                load(lines[2]),
                load(lines[3]),
            );
            let (ab0, ab1) = (_mm_unpacklo_epi8(a, b), _mm_unpackhi_epi8(a, b));
            let (cd0, cd1) = (_mm_unpacklo_epi8(c, d), _mm_unpackhi_epi8(c, d));
            // SAFETY: `4 * (j + 16) <= out.len()`.
            unsafe {
                let p = out.as_mut_ptr().add(4 * j);
                _mm_storeu_si128(p.cast(), _mm_unpacklo_epi16(ab0, cd0));
                _mm_storeu_si128(p.add(16).cast(), _mm_unpackhi_epi16(ab0, cd0));
                _mm_storeu_si128(p.add(32).cast(), _mm_unpacklo_epi16(ab1, cd1));
                _mm_storeu_si128(p.add(48).cast(), _mm_unpackhi_epi16(ab1, cd1));
            }
            j += 16;
        }
    }
    while 4 * (j + 8) <= out.len() {
        let at = start + j * step;
        // Where the 16-byte load starts and whether the wanted bytes are its odd ones: a
        // block at stride 2 spans 15 bytes, so at the end of a line it reads one byte early.
        let (from, odd) = match step {
            1 if at + 8 <= len => (at, false),
            2 if at + 16 <= len => (at, false),
            2 if at >= 1 && at + 15 <= len => (at - 1, true),
            _ => break,
        };
        let load = |line: &[A]| {
            // SAFETY: `from + 8 <= len` (step 1) or `from + 16 <= len` (step 2) bytes are
            // readable in every line; `A` is one byte.
            unsafe {
                let p = line.as_ptr().add(from);
                if step == 1 {
                    _mm_xor_si128(_mm_loadl_epi64(p.cast()), flip)
                } else {
                    let v = _mm_loadu_si128(p.cast());
                    let v = if odd {
                        _mm_srli_epi16(v, 8)
                    } else {
                        _mm_and_si128(v, _mm_set1_epi16(0xff))
                    };
                    _mm_xor_si128(_mm_packus_epi16(v, v), flip)
                }
            }
        };
        let ab = _mm_unpacklo_epi8(load(lines[0]), load(lines[1]));
        let cd = _mm_unpacklo_epi8(load(lines[2]), load(lines[3]));
        // SAFETY: `4 * (j + 8) <= out.len()`.
        unsafe {
            let p = out.as_mut_ptr().add(4 * j);
            _mm_storeu_si128(p.cast(), _mm_unpacklo_epi16(ab, cd));
            _mm_storeu_si128(p.add(16).cast(), _mm_unpackhi_epi16(ab, cd));
        }
        j += 8;
    }
    j
}
