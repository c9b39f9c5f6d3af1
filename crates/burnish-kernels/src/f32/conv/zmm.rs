//! The AVX-512 form of the `MR x NR` microkernel ([`super::micro`]): each output channel's 16
//! pixels are one `zmm` accumulator, each reduction step one 16-wide input load (two 8-wide
//! halves joined when a block spans two output rows) and six FMAs whose weight operand is
//! broadcast from memory inside the FMA. Against the AVX2 kernel's two loads, six broadcasts
//! and twelve FMAs per step, that halves the instructions the core issues per multiply-add;
//! the products, their order and the epilogue's operations are the same, so the results are
//! bit-identical to the AVX2 kernel's. [`super::micro::tile`] sends it packed rows only
//! (aligned, one line per step): in-place rows at arbitrary alignment made its 16-wide loads
//! straddle cache lines, and there the AVX2 kernel was faster on Zen 4 (13x13 1x1 layer: 80 ->
//! 96 GFLOP/s on packed rows; 3x3 layers read in place: 75-90 -> 40-60 GFLOP/s).

use std::arch::x86_64::*;

use super::micro::{BRows, Partial, TileOut, by_rows};
use super::{Epilogue, MR, NR, Terms};

/// AVX-512 tile: dispatches on the valid rows so a partial panel costs only its rows.
///
/// # Safety
/// The CPU must support AVX-512F; otherwise as for [`super::micro::tile`].
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn tile(
    k: usize,
    a: &[f32],
    b: BRows<'_>,
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<Partial>,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe { by_rows!(out.rows, rows(k, a, b, terms, out, epi, partial)) }
}

/// The reduction for `R` rows: `acc[r] += a[kk * MR + r] * b_kk` over `k` steps.
///
/// # Safety
/// As for [`tile`].
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn reduce<const R: usize>(k: usize, a: &[f32], b: BRows<'_>, acc: &mut [__m512; R]) {
    let mut pa = a.as_ptr();
    match b {
        BRows::Packed(rows) => {
            let mut pb = rows.as_ptr();
            for _ in 0..k {
                // SAFETY: `a` holds `k * MR` values and each step reads R <= MR of them; a
                // packed row holds NR values (the caller's contract).
                unsafe {
                    let v = _mm512_loadu_ps(pb);
                    for (r, c) in acc.iter_mut().enumerate() {
                        *c = _mm512_fmadd_ps(_mm512_set1_ps(*pa.add(r)), v, *c);
                    }
                    pa = pa.add(MR);
                    pb = pb.add(NR);
                }
            }
        }
        BRows::Indirect { lo, hi, offsets } if hi == lo.wrapping_add(NR / 2) => {
            for &o in &offsets[..k] {
                // SAFETY: as above; both halves of the step's row are NR / 2 readable values,
                // and here they are adjacent.
                unsafe {
                    let v = _mm512_loadu_ps(lo.add(o));
                    for (r, c) in acc.iter_mut().enumerate() {
                        *c = _mm512_fmadd_ps(_mm512_set1_ps(*pa.add(r)), v, *c);
                    }
                    pa = pa.add(MR);
                }
            }
        }
        BRows::Indirect { lo, hi, offsets } => {
            for &o in &offsets[..k] {
                // SAFETY: as above, two separate halves of NR / 2 values.
                unsafe {
                    let v = _mm512_insertf32x8::<1>(
                        _mm512_castps256_ps512(_mm256_loadu_ps(lo.add(o))),
                        _mm256_loadu_ps(hi.add(o)),
                    );
                    for (r, c) in acc.iter_mut().enumerate() {
                        *c = _mm512_fmadd_ps(_mm512_set1_ps(*pa.add(r)), v, *c);
                    }
                    pa = pa.add(MR);
                }
            }
        }
    }
}

/// The tile for `R` valid rows (`R <= MR`; `a` keeps the `MR`-wide panel layout).
///
/// # Safety
/// As for [`tile`], with `out.rows == R`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn rows<const R: usize>(
    k: usize,
    a: &[f32],
    b: BRows<'_>,
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<Partial>,
) {
    const { assert!(R <= MR) };
    let mut acc = [_mm512_setzero_ps(); R];
    if let Some(p) = partial.filter(|p| p.resume) {
        for (r, c) in acc.iter_mut().enumerate() {
            // SAFETY: the partial sums hold MR * NR values (the caller's contract).
            *c = unsafe { _mm512_loadu_ps(p.sums.add(r * NR)) };
        }
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { reduce::<R>(k, a, b, &mut acc) };
    if let Some(p) = partial.filter(|p| !p.finish) {
        for (r, c) in acc.iter().enumerate() {
            // SAFETY: as above.
            unsafe { _mm512_storeu_ps(p.sums.add(r * NR), *c) };
        }
        return;
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { finish(acc, terms, out, epi) };
}

/// Two adjacent weight panels (`MR + R2` output channels, the first panel full) on one block
/// of packed rows: twelve `zmm` accumulators, so each 16-wide input load feeds twelve FMAs
/// instead of six. Each output's products and their order are those of [`tile`] (bit-identical
/// results). `partial` holds the two panels' running sums.
///
/// # Safety
/// As for [`tile`], with `b` packed rows, `a0` and `a1` each `k * MR` values, `out.rows` in
/// `MR + 1..=2 * MR` rows `out.row_stride` apart, and `terms` covering them all.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn tile_pair(
    k: usize,
    (a0, a1): (&[f32], &[f32]),
    b: &[f32],
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<(Partial, Partial)>,
) {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        by_rows!(
            out.rows - MR,
            pair(k, (a0, a1), b, terms, out, epi, partial)
        )
    }
}

/// [`tile_pair`] with `R2` rows in the second panel.
///
/// # Safety
/// As for [`tile_pair`], with `out.rows == MR + R2`.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn pair<const R2: usize>(
    k: usize,
    (a0, a1): (&[f32], &[f32]),
    b: &[f32],
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<(Partial, Partial)>,
) {
    const { assert!(R2 <= MR) };
    let mut top = [_mm512_setzero_ps(); MR];
    let mut low = [_mm512_setzero_ps(); R2];
    if let Some((p0, p1)) = partial.filter(|(p, _)| p.resume) {
        // SAFETY: each panel's partial sums hold MR * NR values (the caller's contract).
        unsafe {
            for (r, c) in top.iter_mut().enumerate() {
                *c = _mm512_loadu_ps(p0.sums.add(r * NR));
            }
            for (r, c) in low.iter_mut().enumerate() {
                *c = _mm512_loadu_ps(p1.sums.add(r * NR));
            }
        }
    }
    let (mut pa0, mut pa1, mut pb) = (a0.as_ptr(), a1.as_ptr(), b.as_ptr());
    for _ in 0..k {
        // SAFETY: `a0`, `a1` hold `k * MR` values and `b` `k` rows of NR (the contract).
        unsafe {
            let v = _mm512_loadu_ps(pb);
            for (r, c) in top.iter_mut().enumerate() {
                *c = _mm512_fmadd_ps(_mm512_set1_ps(*pa0.add(r)), v, *c);
            }
            for (r, c) in low.iter_mut().enumerate() {
                *c = _mm512_fmadd_ps(_mm512_set1_ps(*pa1.add(r)), v, *c);
            }
            pa0 = pa0.add(MR);
            pa1 = pa1.add(MR);
            pb = pb.add(NR);
        }
    }
    if let Some((p0, p1)) = partial.filter(|(p, _)| !p.finish) {
        // SAFETY: as above.
        unsafe {
            for (r, c) in top.iter().enumerate() {
                _mm512_storeu_ps(p0.sums.add(r * NR), *c);
            }
            for (r, c) in low.iter().enumerate() {
                _mm512_storeu_ps(p1.sums.add(r * NR), *c);
            }
        }
        return;
    }
    let low_terms = Terms {
        bias: &terms.bias[MR..],
        affine: terms.affine.map(|(s, t)| (&s[MR..], &t[MR..])),
    };
    let low_out = TileOut {
        // SAFETY: row MR of the region (the contract's `MR + R2` rows).
        ptr: unsafe { out.ptr.add(MR * out.row_stride) },
        rows: R2,
        ..out
    };
    // SAFETY: forwarded from this function's contract (rows `0..MR + R2` of the region).
    unsafe {
        finish(top, terms, TileOut { rows: MR, ..out }, epi);
        finish(low, low_terms, low_out, epi);
    }
}

/// The epilogue of a tile's rows (bias, scale and shift, residual, clamps) and the masked
/// stores of its valid columns.
///
/// # Safety
/// Row `r` of `rows` is written at `out.ptr + r * out.row_stride`, `out.cols` values, inside
/// the caller's output region; `terms` covers every row. (The rows come by value: taking them
/// by reference kept the accumulators in memory, stored at every step of the reduction.)
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn finish<const N: usize>(
    rows: [__m512; N],
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
) {
    let lo = _mm512_set1_ps(epi.min);
    let hi = _mm512_set1_ps(epi.max);
    let mask: __mmask16 = if out.cols >= NR {
        !0
    } else {
        (1u16 << out.cols) - 1
    };
    for (r, c) in rows.into_iter().enumerate() {
        let mut v = _mm512_add_ps(c, _mm512_set1_ps(terms.bias[r]));
        if let Some((s, t)) = terms.affine {
            // Multiply, then add: two roundings, as the unfused steps make.
            v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_set1_ps(s[r])), _mm512_set1_ps(t[r]));
        }
        // SAFETY: row `r` of the output region holds `out.cols` values; the masked load and
        // store touch only those.
        unsafe {
            let p = out.ptr.add(r * out.row_stride);
            if epi.accumulate {
                v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, p));
            }
            // Operand order keeps NaN: max/min return the second operand on NaN.
            v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
            _mm512_mask_storeu_ps(p, mask, v);
        }
    }
}
