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
unsafe fn finish<const N: usize>(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one tile with both kernels on the same operands; returns (zmm, avx2) outputs.
    #[allow(clippy::too_many_arguments)]
    fn both(
        k: usize,
        a: &[f32],
        b: BRows<'_>,
        terms: Terms<'_>,
        rows: usize,
        cols: usize,
        epi: &Epilogue,
        residual: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        let run = |zmm: bool| {
            let mut out = residual.to_vec();
            let tile_out = TileOut {
                ptr: out.as_mut_ptr(),
                row_stride: NR + 3,
                rows,
                cols,
            };
            // SAFETY: the CPU was checked by the caller; `out` holds `MR` rows of `NR + 3`.
            unsafe {
                if zmm {
                    tile(k, a, b, terms, tile_out, epi, None);
                } else {
                    super::super::micro::avx2::tile(k, a, b, terms, tile_out, epi, None);
                }
            }
            out
        };
        (run(true), run(false))
    }

    #[test]
    fn a_pair_of_panels_gives_two_tiles_bits() {
        let f = crate::cpu::features();
        if !(f.avx512() && f.avx2_fma()) {
            eprintln!("skipped: this CPU lacks AVX-512F");
            return;
        }
        let mut seed = 5u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let k = 29;
        let (a0, a1): (Vec<f32>, Vec<f32>) = (0..k * MR).map(|_| (next(), next())).unzip();
        let b: Vec<f32> = (0..k * NR + NR).map(|_| next()).collect();
        let bias: Vec<f32> = (0..2 * MR).map(|_| next()).collect();
        let (scale, shift): (Vec<f32>, Vec<f32>) = (0..2 * MR).map(|_| (next(), next())).unzip();
        let residual: Vec<f32> = (0..2 * MR * NR).map(|_| next()).collect();
        for (rows, cols) in [(12, 16), (7, 16), (9, 5)] {
            for (affine, accumulate) in [(false, false), (true, true)] {
                let terms = |from: usize| Terms {
                    bias: &bias[from..],
                    affine: affine.then_some((&scale[from..], &shift[from..])),
                };
                let epi = Epilogue {
                    min: -0.2,
                    max: 0.3,
                    accumulate,
                };
                let out = |o: &mut Vec<f32>, at: usize, rows: usize| TileOut {
                    ptr: o[at * NR..].as_mut_ptr(),
                    row_stride: NR,
                    rows,
                    cols,
                };
                let (mut pair, mut two) = (residual.clone(), residual.clone());
                // SAFETY: the CPU was checked; every buffer holds the rows written.
                unsafe {
                    let o = out(&mut pair, 0, rows);
                    tile_pair(k, (&a0, &a1), &b, terms(0), o, &epi, None);
                    let o = out(&mut two, 0, MR);
                    tile(k, &a0, BRows::Packed(&b), terms(0), o, &epi, None);
                    let o = out(&mut two, MR, rows - MR);
                    tile(k, &a1, BRows::Packed(&b), terms(MR), o, &epi, None);
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&pair), bits(&two), "rows {rows} cols {cols}");
            }
        }
    }

    #[test]
    fn the_zmm_tile_gives_the_avx2_tiles_bits() {
        let f = crate::cpu::features();
        if !(f.avx512() && f.avx2_fma()) {
            eprintln!("skipped: this CPU lacks AVX-512F");
            return;
        }
        let mut seed = 9u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let k = 37;
        let a: Vec<f32> = (0..k * MR).map(|_| next()).collect();
        let input: Vec<f32> = (0..k * NR * 4 + 64).map(|_| next()).collect();
        let bias: Vec<f32> = (0..MR).map(|_| next()).collect();
        let (scale, shift): (Vec<f32>, Vec<f32>) = (0..MR).map(|_| (next(), next())).unzip();
        let residual: Vec<f32> = (0..MR * (NR + 3)).map(|_| next()).collect();
        let offsets: Vec<usize> = (0..k).map(|i| i * 2 * NR + (i % 3)).collect();
        let sources = [
            BRows::Packed(&input),
            BRows::Indirect {
                lo: input.as_ptr(),
                hi: input[NR / 2..].as_ptr(),
                offsets: &offsets,
            },
            BRows::Indirect {
                lo: input.as_ptr(),
                hi: input[NR + 5..].as_ptr(),
                offsets: &offsets,
            },
        ];
        for b in sources {
            for (rows, cols) in [(6, 16), (4, 16), (6, 9), (1, 3)] {
                for (affine, accumulate, min) in
                    [(false, false, f32::NEG_INFINITY), (true, true, 0.0)]
                {
                    let terms = Terms {
                        bias: &bias,
                        affine: affine.then_some((&scale[..], &shift[..])),
                    };
                    let epi = Epilogue {
                        min,
                        max: 0.3,
                        accumulate,
                    };
                    let (z, y) = both(k, &a, b, terms, rows, cols, &epi, &residual);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&z),
                        bits(&y),
                        "rows {rows} cols {cols} affine {affine}"
                    );
                }
            }
        }
    }
}
