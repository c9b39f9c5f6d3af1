//! Stride-1 pools that keep the plane's size (3x3 pad 1 in Inception, the 5/9/13 SPP pools of
//! YOLO necks) on small planes, in AVX-512 registers over the flat plane: the window's rows are
//! whole-row shifts of the flat index (a tap is in range exactly when its flat index is), so a
//! first pass reduces them with masked loads 16 values at a time; a second pass reduces the
//! columns of that result, masking lanes whose shifted column leaves the row. Rows of 13 or 27
//! values no longer go through a row buffer with scalar tails (Zen 4, one thread, 192x13x13:
//! 5x5 165 -> 30 us, 13x13 499 -> 95 us; onnxruntime 52 and 181). The taps combine in the
//! row-buffer path's order (rows, then columns); a plane without NaN takes one `max` per tap.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::PoolAxis;

/// Planes up to this many values take this path (the row pass's result stays in L1).
const MAX_PLANE: usize = 4096;

/// Pools one plane (`rows.input x cols.input`, output of the same size) with the maximum
/// (NaN-propagating, as [`super::Max`]) or the sum; `false` (nothing written) when the window
/// does not fit this kernel or the CPU lacks AVX-512.
pub(super) fn plane(
    src: &[f32],
    rows: PoolAxis,
    cols: PoolAxis,
    max: bool,
    dst: &mut [f32],
) -> bool {
    let same =
        |a: PoolAxis| a.stride == 1 && a.dilation == 1 && a.output == a.input && a.pad < a.kernel;
    let fits = same(rows)
        && same(cols)
        && rows.input * cols.input <= MAX_PLANE
        && src.len() == rows.input * cols.input
        && dst.len() == src.len();
    #[cfg(target_arch = "x86_64")]
    if fits && crate::cpu::features().avx512() {
        // SAFETY: the CPU has AVX-512F (probed); the sizes were checked above.
        unsafe {
            match (max, max && has_nan(src)) {
                (true, false) => avx512::<true, false>(src, rows, cols, dst),
                (true, true) => avx512::<true, true>(src, rows, cols, dst),
                (false, _) => avx512::<false, false>(src, rows, cols, dst),
            }
        }
        return true;
    }
    let _ = (src, rows, cols, dst, max, fits);
    false
}

/// Whether `v` holds a NaN (a whole-slice fold, which vectorizes; `any` stops per value).
pub(super) fn has_nan(v: &[f32]) -> bool {
    v.iter().fold(false, |seen, x| seen | x.is_nan())
}

/// The maximum as [`super::Max`] combines (`v` wins when greater or NaN; without `NAN` the
/// plane has none and `max` alone does it), or the sum.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) fn combine<const MAX: bool, const NAN: bool>(acc: __m512, v: __m512) -> __m512 {
    if !MAX {
        return _mm512_add_ps(acc, v);
    }
    // `max(v, acc)` returns `acc` on ties (either zero) and when either is NaN.
    let m = _mm512_max_ps(v, acc);
    if NAN {
        _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v), v)
    } else {
        m
    }
}

/// Lanes `j` with `lo <= start + j < hi`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn range_mask(start: isize, lo: isize, hi: isize) -> __mmask16 {
    let upto = |n: isize| match n {
        ..=0 => 0u16,
        16.. => u16::MAX,
        n => (1u16 << n) - 1,
    };
    upto(hi - start) & !upto(lo - start)
}

/// # Safety
/// The CPU must have AVX-512F; `src` and `dst` hold one plane each of `rows.input x
/// cols.input <= MAX_PLANE` values and both axes keep their size with stride 1 (checked by
/// [`plane`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<const MAX: bool, const NAN: bool>(
    src: &[f32],
    rows: PoolAxis,
    cols: PoolAxis,
    dst: &mut [f32],
) {
    let empty = _mm512_set1_ps(if MAX { f32::NEG_INFINITY } else { 0.0 });
    let (w, n) = (cols.input as isize, src.len() as isize);
    let mut by_rows = vec![0f32; src.len()];
    for i in (0..n).step_by(16) {
        let mut acc = empty;
        for ky in 0..rows.kernel as isize {
            let shift = (ky - rows.pad as isize) * w;
            let m = range_mask(i + shift, 0, n) & range_mask(i, 0, n);
            // SAFETY: lanes the mask admits read `src[i + shift + j]` inside `0..n`; masked-off
            // lanes are not read (AVX-512 suppresses their faults).
            let v =
                unsafe { _mm512_mask_loadu_ps(empty, m, src.as_ptr().wrapping_offset(i + shift)) };
            acc = combine::<MAX, NAN>(acc, v);
        }
        let m = range_mask(i, 0, n);
        // SAFETY: the mask admits `i + j < n`, inside `by_rows`.
        unsafe { _mm512_mask_storeu_ps(by_rows.as_mut_ptr().add(i as usize), m, acc) };
    }
    let sixteen = _mm512_set1_epi32(16);
    let width = _mm512_set1_epi32(w as i32);
    let mut col = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    col = wrap(col, width);
    for i in (0..n).step_by(16) {
        let tail = range_mask(i, 0, n);
        let mut acc = empty;
        for kx in 0..cols.kernel as isize {
            let shift = kx - cols.pad as isize;
            let inside = _mm512_cmpge_epi32_mask(col, _mm512_set1_epi32(-shift as i32))
                & _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32((w - shift) as i32));
            // SAFETY: an admitted lane's column plus `shift` stays in its row, so it reads
            // `by_rows[i + j + shift]` inside the plane; masked-off lanes are not read.
            let v = unsafe {
                _mm512_mask_loadu_ps(
                    empty,
                    inside & tail,
                    by_rows.as_ptr().wrapping_offset(i + shift),
                )
            };
            acc = combine::<MAX, NAN>(acc, v);
        }
        // SAFETY: the mask admits `i + j < n`, inside `dst`.
        unsafe { _mm512_mask_storeu_ps(dst.as_mut_ptr().add(i as usize), tail, acc) };
        col = wrap(_mm512_add_epi32(col, sixteen), width);
    }
}

/// Each lane of `col` (non-negative) reduced below `width`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
fn wrap(mut col: __m512i, width: __m512i) -> __m512i {
    loop {
        let over = _mm512_cmpge_epi32_mask(col, width);
        if over == 0 {
            return col;
        }
        col = _mm512_mask_sub_epi32(col, over, col, width);
    }
}
