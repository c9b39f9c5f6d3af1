//! The AVX-512 form of [`super::PackedLinear::forward`] for any number of rows: tiles of up to
//! [`RB`] rows by one 64-column panel, 24 `zmm` accumulators, each reduction step four weight
//! loads, [`RB`] broadcasts of `x` and 24 FMAs. Tasks split the output into row bands and
//! column panels across the rayon pool. Every output is the same chain of FMAs over `k` in
//! order, then the bias, whatever the rows or threads computed beside it.

use std::arch::x86_64::*;

use rayon::prelude::*;

use super::{KC, NB, Operand};

/// Rows per register tile.
const RB: usize = 6;
/// Multiply-adds from which a call splits its tiles across threads.
const PARALLEL_MACS: usize = 1 << 17;

/// The output base pointer shared by tasks that write disjoint tiles.
#[derive(Clone, Copy)]
struct Out(*mut f32);
// SAFETY: each task writes its own rows x panel rectangle of the output, so tasks sharing the
// base pointer never touch the same element.
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

impl Out {
    fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// `out (m x n) = x (m x k) W + bias` over `W`'s panels (see [`super::PackedLinear`]), with
/// `x[r][i]` where `x` says; split across the rayon pool when `parallel` and large enough.
///
/// # Safety
/// The CPU must support AVX-512F and FMA; `x` reads inside its slice for `m` rows and `k`
/// steps, `out` holds `m * n` values, `panels` `n.div_ceil(NB) * k * NB`, `bias` (when given)
/// `n`.
#[target_feature(enable = "avx512f,fma")]
pub(super) unsafe fn forward(
    x: Operand<'_>,
    (m, k, n): (usize, usize, usize),
    panels: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    parallel: bool,
) {
    if k == 0 {
        for row in out.chunks_exact_mut(n.max(1)) {
            match bias {
                Some(b) => row.copy_from_slice(b),
                None => row.fill(0.0),
            }
        }
        return;
    }
    let blocks = n.div_ceil(NB);
    // Rows in balanced groups of at most RB (49 rows: 4 x 6 + 5 x 5, not 8 x 6 + 1, whose
    // one-row tile would cost a fifth of the time of a six-row one for a sixth of the work).
    let groups = m.div_ceil(RB);
    let (base, extra) = (m / groups.max(1), m % groups.max(1));
    let first_row = |g: usize| g * base + g.min(extra);
    let threads = rayon::current_num_threads();
    let dst = Out(out.as_mut_ptr());
    let task = |b: usize, g0: usize, g1: usize| {
        let j0 = b * NB;
        let width = NB.min(n - j0);
        let masks: [__mmask16; 4] = std::array::from_fn(|v| {
            let lanes = width.saturating_sub(16 * v).min(16);
            ((1u32 << lanes) - 1) as __mmask16
        });
        let panel = &panels[b * k * NB..][..k * NB];
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            let last = k0 + kc == k;
            let tile = Tile {
                w: panel[k0 * NB..].as_ptr(),
                kc,
                ks: match x {
                    Operand::Strided { ks, .. } => ks,
                    Operand::Gathered { .. } => 0,
                },
                steps: match x {
                    Operand::Strided { .. } => std::ptr::null(),
                    Operand::Gathered { steps, .. } => steps[k0..].as_ptr(),
                },
                ldo: n,
                masks,
                resume: k0 > 0,
                bias: bias.filter(|_| last).map(|b| b[j0..].as_ptr()),
            };
            for g in g0..g1 {
                let r0 = first_row(g);
                let rows = first_row(g + 1) - r0;
                let xs: [*const f32; RB] = std::array::from_fn(|r| match x {
                    Operand::Strided { x, rs, ks } => x
                        .as_ptr()
                        .wrapping_add((r0 + r.min(rows - 1)) * rs + k0 * ks),
                    Operand::Gathered { x, rows: at, .. } => {
                        x.as_ptr().wrapping_add(at[r0 + r.min(rows - 1)])
                    }
                });
                let op = dst.at(r0 * n + j0);
                // SAFETY: rows `r0..r0 + rows` of `x` hold `k` values each from `k0`; the
                // panel slice holds `kc * NB` values; this task alone writes rows
                // `r0..r0 + rows`, columns `j0..j0 + width` of `out` (masked stores).
                unsafe {
                    match width.div_ceil(16) {
                        1 => tile.rows::<1>(rows, &xs, op),
                        2 => tile.rows::<2>(rows, &xs, op),
                        3 => tile.rows::<3>(rows, &xs, op),
                        _ => tile.rows::<4>(rows, &xs, op),
                    }
                }
            }
        }
    };
    if parallel && threads > 1 && m * k * n >= PARALLEL_MACS {
        let want = 4 * threads;
        let bands = want.div_ceil(blocks).clamp(1, groups);
        let per_band = groups.div_ceil(bands);
        let bands = groups.div_ceil(per_band);
        (0..blocks * bands).into_par_iter().for_each(|t| {
            let (band, b) = (t / blocks, t % blocks);
            task(b, band * per_band, groups.min((band + 1) * per_band));
        });
    } else {
        for b in 0..blocks {
            task(b, 0, groups);
        }
    }
}

/// One reduction slice of one panel, shared by the row tiles that run over it.
struct Tile {
    /// The panel's first row of this slice (`kc` rows of `NB`).
    w: *const f32,
    kc: usize,
    /// Stride of a strided `x` between reduction steps.
    ks: usize,
    /// A gathered `x`'s step offsets from this slice's first (null for a strided `x`).
    steps: *const usize,
    /// Row stride of `out`.
    ldo: usize,
    /// Valid lanes of the panel's four 16-column vectors.
    masks: [__mmask16; 4],
    /// Accumulate onto the output (a later slice) instead of starting from zero.
    resume: bool,
    /// Added after the last slice.
    bias: Option<*const f32>,
}

impl Tile {
    /// [`Self::run`] for `rows` (1..=[`RB`]) rows of `V` vectors (a partial last panel only
    /// computes the vectors its columns reach: 96 channels are one panel and a half, not two).
    ///
    /// # Safety
    /// As for [`Self::run`].
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn rows<const V: usize>(&self, rows: usize, x: &[*const f32; RB], out: *mut f32) {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            match rows {
                1 => self.run::<1, V>(x, out),
                2 => self.run::<2, V>(x, out),
                3 => self.run::<3, V>(x, out),
                4 => self.run::<4, V>(x, out),
                5 => self.run::<5, V>(x, out),
                _ => self.run::<RB, V>(x, out),
            }
        }
    }

    /// `out[r] (+)= x[r] w` for `R` rows and the panel's first `V` vectors, `x` the rows'
    /// first values of this slice and `out` at the tile's first row and column.
    ///
    /// # Safety
    /// AVX-512F and FMA; the first `R` rows of `x` readable for `kc` steps at stride `ks` or at
    /// the `steps` offsets; `R` rows of `out` writable at the masked lanes at stride `ldo`; `w`
    /// readable for `kc * NB` values.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn run<const R: usize, const V: usize>(&self, x: &[*const f32; RB], out: *mut f32) {
        let masks = self.masks;
        // SAFETY: all reads and writes stay inside the ranges of this function's contract.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); V]; R];
            if self.resume {
                for (r, row) in acc.iter_mut().enumerate() {
                    for (v, a) in row.iter_mut().enumerate() {
                        *a = _mm512_maskz_loadu_ps(masks[v], out.add(r * self.ldo + 16 * v));
                    }
                }
            }
            let xs: [*const f32; R] = std::array::from_fn(|r| x[r]);
            let mut pw = self.w;
            let mut step = |at: usize| {
                let mut w = [_mm512_setzero_ps(); V];
                for (v, wv) in w.iter_mut().enumerate() {
                    *wv = _mm512_loadu_ps(pw.add(16 * v));
                }
                for (row, xr) in acc.iter_mut().zip(&xs) {
                    let xb = _mm512_set1_ps(*xr.add(at));
                    for (a, wv) in row.iter_mut().zip(&w) {
                        *a = _mm512_fmadd_ps(xb, *wv, *a);
                    }
                }
                pw = pw.add(NB);
            };
            if self.steps.is_null() {
                for i in 0..self.kc {
                    step(i * self.ks);
                }
            } else {
                for i in 0..self.kc {
                    step(*self.steps.add(i));
                }
            }
            if let Some(b) = self.bias {
                for (v, m) in masks.iter().enumerate().take(V) {
                    let bv = _mm512_maskz_loadu_ps(*m, b.add(16 * v));
                    for row in acc.iter_mut() {
                        row[v] = _mm512_add_ps(row[v], bv);
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                for (v, a) in row.iter().enumerate() {
                    if masks[v] != 0 {
                        _mm512_mask_storeu_ps(out.add(r * self.ldo + 16 * v), masks[v], *a);
                    }
                }
            }
        }
    }
}
