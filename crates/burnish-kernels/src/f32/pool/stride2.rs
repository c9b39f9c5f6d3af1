//! Pools whose windows are 2 or 3 columns wide with column stride 2 (the 2x2 and 3x3
//! stride-2 pools of CNN stems and stages) in AVX-512 registers: per output row and 16
//! outputs, the window's input rows are loaded (masked where columns fall in the padding) and
//! reduced in registers (one `max` per tap where the plane has no NaN), then split into even and odd columns by two permutes (a third,
//! shifted by one, gives the 3-wide window's last tap). No row buffer, no per-row setup; the
//! taps combine in the row-buffer path's order (rows first, then columns).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::PoolAxis;

/// Pools one plane (`rows.input x cols.input` into `rows.output x cols.output`) with the
/// maximum (NaN-propagating, as [`super::Max`]) or the sum; `false` (nothing written) when the
/// window does not fit this kernel or the CPU lacks AVX-512.
pub(super) fn plane(
    src: &[f32],
    rows: PoolAxis,
    cols: PoolAxis,
    max: bool,
    dst: &mut [f32],
) -> bool {
    let fits = cols.stride == 2
        && cols.dilation == 1
        && matches!(cols.kernel, 2 | 3)
        && cols.pad < cols.kernel
        && src.len() == rows.input * cols.input
        && dst.len() == rows.output * cols.output;
    #[cfg(target_arch = "x86_64")]
    if fits && crate::cpu::features().avx512() {
        // SAFETY: the CPU has AVX-512F (probed); the sizes were checked above.
        unsafe {
            match (cols.kernel, max, max && super::stride1::has_nan(src)) {
                (2, true, false) => avx512::<2, true, false>(src, rows, cols, dst),
                (2, true, true) => avx512::<2, true, true>(src, rows, cols, dst),
                (2, false, _) => avx512::<2, false, false>(src, rows, cols, dst),
                (_, true, false) => avx512::<3, true, false>(src, rows, cols, dst),
                (_, true, true) => avx512::<3, true, true>(src, rows, cols, dst),
                (_, false, _) => avx512::<3, false, false>(src, rows, cols, dst),
            }
        }
        return true;
    }
    let _ = (src, rows, dst, max, fits);
    false
}

#[cfg(target_arch = "x86_64")]
use super::stride1::combine;

/// Lanes `j` of a 16-wide load at column `c + j` that lie inside `0..w` (`c` may be negative).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes(c: isize, w: isize) -> __mmask16 {
    let lo = (-c).clamp(0, 16) as u32;
    let hi = (w - c).clamp(0, 16) as u32;
    if hi <= lo {
        return 0;
    }
    let upto = |n: u32| if n >= 16 { u16::MAX } else { (1u16 << n) - 1 };
    upto(hi) & !upto(lo)
}

/// # Safety
/// The CPU must have AVX-512F; `src` and `dst` hold one plane each (checked by [`plane`]);
/// `cols` is a stride-2, undilated, `K`-wide window with `pad < K`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<const K: usize, const MAX: bool, const NAN: bool>(
    src: &[f32],
    rows: PoolAxis,
    cols: PoolAxis,
    dst: &mut [f32],
) {
    let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    let odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    let next = _mm512_setr_epi32(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 0);
    let empty = _mm512_set1_ps(if MAX { f32::NEG_INFINITY } else { 0.0 });
    let (w, n) = (cols.input, cols.output);
    let wi = w as isize;
    for (oy, out) in dst.chunks_exact_mut(n).enumerate() {
        let mut taps = [0usize; 8];
        let mut count = 0;
        for ky in 0..rows.kernel {
            if let Some(iy) = rows.tap(oy, ky) {
                if count == taps.len() {
                    break;
                }
                taps[count] = iy * w;
                count += 1;
            }
        }
        let mut i = 0;
        while i < n {
            let r = (n - i).min(16);
            let c = (2 * i) as isize - cols.pad as isize;
            let (ma, mb) = (lanes(c, wi), lanes(c + 16, wi));
            let mc = lanes(c + 32, wi) & 1;
            let (mut a, mut b, mut e) = (empty, empty, empty);
            for (t, &row) in taps[..count].iter().enumerate() {
                // SAFETY: every lane a mask admits is a column inside `0..w` of input row
                // `row / w`; masked-off lanes are not read (AVX-512 suppresses their faults),
                // so the base may lie before the row.
                let (ra, rb, re) = unsafe {
                    let p = src.as_ptr().wrapping_add(row).wrapping_offset(c);
                    (
                        _mm512_mask_loadu_ps(empty, ma, p),
                        _mm512_mask_loadu_ps(empty, mb, p.wrapping_add(16)),
                        _mm512_mask_loadu_ps(empty, mc, p.wrapping_add(32)),
                    )
                };
                if t == 0 {
                    (a, b, e) = (ra, rb, re);
                } else {
                    (a, b, e) = (
                        combine::<MAX, NAN>(a, ra),
                        combine::<MAX, NAN>(b, rb),
                        combine::<MAX, NAN>(e, re),
                    );
                }
            }
            let mut v = combine::<MAX, NAN>(
                _mm512_permutex2var_ps(a, even, b),
                _mm512_permutex2var_ps(a, odd, b),
            );
            if K == 3 {
                let third = _mm512_permutex2var_ps(a, next, b);
                // Lane 15's third tap is column c + 32: the first lane of `e`.
                let third = _mm512_mask_permutexvar_ps(third, 1 << 15, _mm512_setzero_si512(), e);
                v = combine::<MAX, NAN>(v, third);
            }
            let keep: __mmask16 = if r >= 16 { !0 } else { (1u16 << r) - 1 };
            // SAFETY: outputs `i..i + r` of this row exist.
            unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add(i), keep, v) };
            i += r;
        }
    }
}
