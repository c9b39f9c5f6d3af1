//! The `MR x NR` microkernel: a tile of output channels x output pixels, reduced over `k`,
//! with the epilogue applied before the tile leaves registers.
//!
//! On AVX-512 CPUs the tile runs in `zmm` registers ([`super::zmm`], same results). The
//! AVX2+FMA kernel keeps the 6 x 16 tile in twelve `ymm` accumulators and issues 12 FMAs per
//! step of `k` (two loads of input, six broadcasts of weights); a panel's last, partial tile
//! (e.g. channels 12..16 of 16) is a separate instantiation that computes only its rows. The
//! portable kernel is the same computation in plain Rust, used on CPUs without AVX2/FMA and as
//! the test reference.

use super::{Epilogue, MR, NR, Terms};

/// Where a tile's results go: `rows x cols` values at `ptr`, rows `row_stride` apart.
#[derive(Clone, Copy)]
pub struct TileOut {
    /// First output value of the tile.
    pub ptr: *mut f32,
    /// Distance between output rows (channels), in elements.
    pub row_stride: usize,
    /// Valid rows (`<= MR`).
    pub rows: usize,
    /// Valid columns (`<= NR`).
    pub cols: usize,
}

/// The running sums of a tile whose reduction is split into chunks of `k`: `MR x NR` values,
/// row-major. A chunk resumes from them (unless it is the first) and leaves its sums there
/// (unless it is the last, which applies the epilogue). Resuming the same f32 sums in the same
/// order gives the same result as one unsplit reduction.
#[derive(Clone, Copy)]
pub struct Partial {
    /// The tile's `MR * NR` running sums.
    pub sums: *mut f32,
    /// Start from the stored sums (else from zero).
    pub resume: bool,
    /// This chunk ends the reduction: apply the epilogue to the output.
    pub finish: bool,
}

/// Where the `NR` input values of each reduction step come from.
#[derive(Clone, Copy)]
pub enum BRows<'a> {
    /// Packed rows, `NR` apart: `b[k * NR..][..NR]`.
    Packed(&'a [f32]),
    /// Rows read in place from the padded input: the first `NR / 2` values of step `k` at
    /// `lo + offsets[k]`, the other half at `hi + offsets[k]` (`hi = lo + NR / 2` when the block
    /// is one run of an input line; two runs when the block spans two output rows).
    Indirect {
        /// The first input value of the block's first half for `k = 0`.
        lo: *const f32,
        /// The first input value of the block's second half for `k = 0`.
        hi: *const f32,
        /// Offset of each reduction step's row from the bases.
        offsets: &'a [usize],
    },
}

impl BRows<'_> {
    /// The two halves of reduction step `kk`'s row.
    #[inline(always)]
    fn halves(&self, kk: usize) -> (*const f32, *const f32) {
        match *self {
            BRows::Packed(b) => {
                let p = b[kk * NR..].as_ptr();
                (p, p.wrapping_add(NR / 2))
            }
            BRows::Indirect { lo, hi, offsets } => {
                let o = offsets[kk];
                (lo.wrapping_add(o), hi.wrapping_add(o))
            }
        }
    }
}

/// Two adjacent weight panels on one block of packed rows: one 12 x 16 tile on AVX-512 CPUs
/// (`zmm::tile_pair`), else two calls of [`tile`]; the same results either way.
///
/// # Safety
/// As for [`tile`], with `a.0` and `a.1` each `k * MR` values, `b` `k` packed rows, `out.rows`
/// in `MR + 1..=2 * MR` and `terms` covering them all.
pub unsafe fn tile_pair(
    k: usize,
    a: (&[f32], &[f32]),
    b: &[f32],
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<(Partial, Partial)>,
) {
    debug_assert!(out.rows > MR && terms.bias.len() >= out.rows);
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx512() {
        // SAFETY: the CPU has AVX-512F (checked above); the caller upholds the rest.
        unsafe { super::zmm::tile_pair(k, a, b, terms, out, epi, partial) };
        return;
    }
    let low_terms = Terms {
        bias: &terms.bias[MR..],
        affine: terms.affine.map(|(s, t)| (&s[MR..], &t[MR..])),
    };
    let low = TileOut {
        // SAFETY: row MR of the caller's region (it holds more than MR rows).
        ptr: unsafe { out.ptr.add(MR * out.row_stride) },
        rows: out.rows - MR,
        ..out
    };
    let top = TileOut { rows: MR, ..out };
    // SAFETY: forwarded from this function's contract, one panel at a time.
    unsafe {
        tile(
            k,
            a.0,
            BRows::Packed(b),
            terms,
            top,
            epi,
            partial.map(|p| p.0),
        );
        tile(
            k,
            a.1,
            BRows::Packed(b),
            low_terms,
            low,
            epi,
            partial.map(|p| p.1),
        );
    }
}

/// Computes one tile: `acc[r][j] = sum_k a[k*MR + r] * b_k[j]`, then
/// `out[r][j] = clamp(terms(acc) (+ out[r][j] when accumulating), min, max)`, where `terms`
/// adds the bias and applies the optional scale and shift ([`Terms::apply`]).
///
/// # Safety
/// `out.ptr` must be valid for reads and writes of `out.rows` rows of `out.cols` values,
/// `out.row_stride` apart, and no other thread may access them during the call; every half row
/// of `b` for `k` steps must hold `NR / 2` readable values.
pub unsafe fn tile(
    k: usize,
    a: &[f32],
    b: BRows<'_>,
    terms: Terms<'_>,
    out: TileOut,
    epi: &Epilogue,
    partial: Option<Partial>,
) {
    debug_assert!(a.len() >= k * MR && terms.bias.len() >= out.rows);
    #[cfg(target_arch = "x86_64")]
    {
        // Packed rows only: in-place rows are read at any alignment, and 16-wide loads that
        // straddle two cache lines cost more than the kernel saves (measured on Zen 4).
        if crate::cpu::features().avx512() && matches!(b, BRows::Packed(_)) {
            // SAFETY: the CPU has AVX-512F (checked above); the caller upholds the rest.
            unsafe { super::zmm::tile(k, a, b, terms, out, epi, partial) };
            return;
        }
        if crate::cpu::features().avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked above); the caller upholds the rest.
            unsafe { avx2::tile(k, a, b, terms, out, epi, partial) };
            return;
        }
    }
    let mut acc = [[0f32; NR]; MR];
    if let Some(p) = partial.filter(|p| p.resume) {
        // SAFETY: the caller's partial sums hold MR * NR values.
        let sums = unsafe { std::slice::from_raw_parts(p.sums, MR * NR) };
        for (row, src) in acc.iter_mut().zip(sums.chunks_exact(NR)) {
            row.copy_from_slice(src);
        }
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { portable_acc(k, a, b, &mut acc) };
    if let Some(p) = partial.filter(|p| !p.finish) {
        // SAFETY: as above.
        let sums = unsafe { std::slice::from_raw_parts_mut(p.sums, MR * NR) };
        for (row, dst) in acc.iter().zip(sums.chunks_exact_mut(NR)) {
            dst.copy_from_slice(row);
        }
        return;
    }
    // SAFETY: forwarded from this function's contract.
    unsafe { store(&acc, terms, out, epi) };
}

/// The plain-Rust accumulation of one tile, added to `acc`.
///
/// # Safety
/// Every half row of `b` for `k` steps must hold `NR / 2` readable values.
pub unsafe fn portable_acc(k: usize, a: &[f32], b: BRows<'_>, acc: &mut [[f32; NR]; MR]) {
    for kk in 0..k {
        let av = &a[kk * MR..kk * MR + MR];
        let (lo, hi) = b.halves(kk);
        // SAFETY: the caller guarantees NR / 2 readable values per half row.
        let (lo, hi) = unsafe {
            (
                std::slice::from_raw_parts(lo, NR / 2),
                std::slice::from_raw_parts(hi, NR / 2),
            )
        };
        for r in 0..MR {
            for j in 0..NR / 2 {
                acc[r][j] += av[r] * lo[j];
                acc[r][j + NR / 2] += av[r] * hi[j];
            }
        }
    }
}

/// Scalar epilogue of an accumulated tile.
///
/// # Safety
/// As for [`tile`].
unsafe fn store(acc: &[[f32; NR]; MR], terms: Terms<'_>, out: TileOut, epi: &Epilogue) {
    for (r, acc) in acc.iter().enumerate().take(out.rows) {
        // SAFETY: row `r < rows` of the output region the caller vouches for.
        let row =
            unsafe { std::slice::from_raw_parts_mut(out.ptr.add(r * out.row_stride), out.cols) };
        for (y, &a) in row.iter_mut().zip(acc) {
            let mut v = terms.apply(r, a);
            if epi.accumulate {
                v += *y;
            }
            *y = clamp(v, epi);
        }
    }
}

/// Clamps to the epilogue's bounds; NaN stays NaN (as ONNX Relu and Clip do).
#[inline]
pub fn clamp(v: f32, epi: &Epilogue) -> f32 {
    if v < epi.min {
        epi.min
    } else if v > epi.max {
        epi.max
    } else {
        v
    }
}

/// Calls `rows::<R>(args)` with the tile's valid row count as `R` (1 to [`MR`]), so a partial
/// panel (e.g. channels 12..16 of 16) costs only its rows; the SIMD kernels share it.
macro_rules! by_rows {
    ($n:expr, $rows:ident($($arg:expr),*)) => {
        match $n {
            6 => $rows::<6>($($arg),*),
            5 => $rows::<5>($($arg),*),
            4 => $rows::<4>($($arg),*),
            3 => $rows::<3>($($arg),*),
            2 => $rows::<2>($($arg),*),
            _ => $rows::<1>($($arg),*),
        }
    };
}
pub(super) use by_rows;

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use std::arch::x86_64::*;

    use super::{BRows, Epilogue, MR, NR, Partial, Terms, TileOut};

    /// AVX2+FMA tile: dispatches on the valid rows so a partial panel costs only its rows.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; otherwise as for [`super::tile`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(
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

    /// The tile for `R` valid rows (`R <= MR`; `a` keeps the `MR`-wide panel layout).
    ///
    /// # Safety
    /// As for [`tile`], with `out.rows == R`.
    #[target_feature(enable = "avx2,fma")]
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
        let mut c0 = [_mm256_setzero_ps(); R];
        let mut c1 = [_mm256_setzero_ps(); R];
        if let Some(p) = partial.filter(|p| p.resume) {
            for r in 0..R {
                // SAFETY: the partial sums hold MR * NR values (the caller's contract).
                unsafe {
                    c0[r] = _mm256_loadu_ps(p.sums.add(r * NR));
                    c1[r] = _mm256_loadu_ps(p.sums.add(r * NR + 8));
                }
            }
        }
        let mut pa = a.as_ptr();
        for kk in 0..k {
            let (lo, hi) = b.halves(kk);
            // SAFETY: `a` holds `k * MR` values, each step reads R <= MR and advances by MR;
            // each half row of `b` holds NR / 2 = 8 readable values (the caller's contract).
            unsafe {
                let b0 = _mm256_loadu_ps(lo);
                let b1 = _mm256_loadu_ps(hi);
                for r in 0..R {
                    let w = _mm256_broadcast_ss(&*pa.add(r));
                    c0[r] = _mm256_fmadd_ps(w, b0, c0[r]);
                    c1[r] = _mm256_fmadd_ps(w, b1, c1[r]);
                }
                pa = pa.add(MR);
            }
        }
        if let Some(p) = partial.filter(|p| !p.finish) {
            for r in 0..R {
                // SAFETY: as above.
                unsafe {
                    _mm256_storeu_ps(p.sums.add(r * NR), c0[r]);
                    _mm256_storeu_ps(p.sums.add(r * NR + 8), c1[r]);
                }
            }
            return;
        }
        let lo = _mm256_set1_ps(epi.min);
        let hi = _mm256_set1_ps(epi.max);
        let full = out.cols == NR;
        for r in 0..R {
            let bv = _mm256_set1_ps(terms.bias[r]);
            let mut v0 = _mm256_add_ps(c0[r], bv);
            let mut v1 = _mm256_add_ps(c1[r], bv);
            if let Some((s, t)) = terms.affine {
                // Multiply, then add: two roundings, as the unfused steps make.
                let (sv, tv) = (_mm256_set1_ps(s[r]), _mm256_set1_ps(t[r]));
                v0 = _mm256_add_ps(_mm256_mul_ps(v0, sv), tv);
                v1 = _mm256_add_ps(_mm256_mul_ps(v1, sv), tv);
            }
            // SAFETY: row `r < R = rows` of the output region the caller vouches for; a full
            // row has NR writable values, a partial one is staged through `tmp`.
            unsafe {
                let p = out.ptr.add(r * out.row_stride);
                let mut tmp = [0f32; NR];
                if !full && epi.accumulate {
                    std::ptr::copy_nonoverlapping(p, tmp.as_mut_ptr(), out.cols);
                }
                let src = if full { p } else { tmp.as_mut_ptr() };
                if epi.accumulate {
                    v0 = _mm256_add_ps(v0, _mm256_loadu_ps(src));
                    v1 = _mm256_add_ps(v1, _mm256_loadu_ps(src.add(8)));
                }
                // Operand order keeps NaN: max/min return the second operand on NaN.
                v0 = _mm256_min_ps(hi, _mm256_max_ps(lo, v0));
                v1 = _mm256_min_ps(hi, _mm256_max_ps(lo, v1));
                _mm256_storeu_ps(src, v0);
                _mm256_storeu_ps(src.add(8), v1);
                if !full {
                    std::ptr::copy_nonoverlapping(tmp.as_ptr(), p, out.cols);
                }
            }
        }
    }
}
