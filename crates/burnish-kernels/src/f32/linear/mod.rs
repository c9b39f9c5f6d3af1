//! `y = x W + bias` for a constant f32 weight packed once, for the few-row products of
//! recurrent cells, decoders and batch-1 dense layers: a general GEMM packs its operands on
//! every call, which dominates when `x` has one or a handful of rows. Here the weight is stored
//! as panels of `NB` (64) columns, each `k` x `NB` contiguous (the last one zero-padded), so a
//! block of outputs streams its panel sequentially with the accumulators in registers. With
//! AVX-512 the same panels feed a register-tiled kernel ([`zmm`]) that also serves the
//! many-row products of transformer layers, where it beats a general GEMM too.

use rayon::prelude::*;

use crate::cpu;

#[cfg(target_arch = "x86_64")]
mod zmm;

/// Columns per register block (four AVX-512 vectors, eight AVX2 ones).
const NB: usize = 64;
/// Reduction steps per pass over a panel: a `KC` x `NB` slice (64 KiB) stays in L2 while
/// every row reads it.
const KC: usize = 256;
/// Rows up to which [`PackedLinear::forward`] beats a general GEMM without AVX-512.
const SMALL_ROWS: usize = 32;
/// Weight elements above which a call splits its column blocks across threads.
const PARALLEL_WEIGHTS: usize = 1 << 16;

/// Where the AVX-512 kernel reads `x[r][i]`, row `r` and reduction step `i` of its left
/// operand.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
enum Operand<'a> {
    /// `x[r * rs + i * ks]`: `(k, 1)` for row-major `x`, `(1, m)` for `x` given transposed.
    Strided { x: &'a [f32], rs: usize, ks: usize },
    /// `x[rows[r] + steps[i]]`: a convolution's input read in place, `rows` the window origins
    /// of its output pixels, `steps` the offsets of its reduction steps from them.
    Gathered {
        x: &'a [f32],
        rows: &'a [usize],
        steps: &'a [usize],
    },
}

/// A constant weight `W` (`k` x `n`) in column panels and optional bias for `y = x W + bias`.
#[derive(Debug, Clone)]
pub struct PackedLinear {
    k: usize,
    n: usize,
    /// `n.div_ceil(NB)` panels of `k` x `NB`, row-major within a panel.
    panels: Vec<f32>,
    bias: Option<Vec<f32>>,
}

impl PackedLinear {
    /// Packs `w`: `k` x `n` row-major, or with `transposed` `n` x `k` row-major (ONNX
    /// `Gemm(transB=1)`). `None` when `w` does not hold `k * n` values.
    pub fn new(w: &[f32], k: usize, n: usize, transposed: bool) -> Option<PackedLinear> {
        if w.len() != k.checked_mul(n)? {
            return None;
        }
        let blocks = n.div_ceil(NB);
        let mut panels = vec![0f32; blocks.checked_mul(k)?.checked_mul(NB)?];
        for j in 0..n {
            let (b, t) = (j / NB, j % NB);
            let panel = &mut panels[b * k * NB..][..k * NB];
            for i in 0..k {
                panel[i * NB + t] = if transposed {
                    w[j * k + i]
                } else {
                    w[i * n + j]
                };
            }
        }
        Some(PackedLinear {
            k,
            n,
            panels,
            bias: None,
        })
    }

    /// Adds a bias of `n` values (`None` when the length differs).
    pub fn with_bias(mut self, bias: Vec<f32>) -> Option<PackedLinear> {
        (bias.len() == self.n).then(|| {
            self.bias = Some(bias);
            self
        })
    }

    /// Scales the weight (and bias) by `alpha` (ONNX `Gemm`'s `alpha`).
    pub fn scaled(mut self, alpha: f32) -> PackedLinear {
        if alpha != 1.0 {
            self.panels.iter_mut().for_each(|v| *v *= alpha);
        }
        self
    }

    /// The inner dimension `k`.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The output width `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The weight, `k` x `n` row-major (unpacked into a new buffer).
    pub fn weight(&self) -> Vec<f32> {
        let (k, n) = (self.k, self.n);
        let mut w = vec![0f32; k * n];
        for (i, row) in w.chunks_exact_mut(n.max(1)).enumerate().take(k) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = self.panels[(j / NB) * k * NB + i * NB + j % NB];
            }
        }
        w
    }

    /// Whether [`Self::forward`] is the faster way to multiply `m` rows: always with
    /// AVX-512 (its register tiles beat the `gemm` crate's AVX2 kernels at every size measured
    /// on Zen 4: 131x192x768 117 against 109 GFLOP/s), otherwise up to [`SMALL_ROWS`] rows (a
    /// general GEMM packs the weight per call, which dominates only for few rows).
    pub fn prefers(&self, m: usize) -> bool {
        m <= SMALL_ROWS || cpu::features().avx512()
    }

    /// The bias, when there is one.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_deref()
    }

    /// `out (m x n) = x (m x k) W + bias`. `None` when the slice lengths do not match.
    ///
    /// Each column panel is read in slices of [`KC`] reduction steps that stay in cache while
    /// every row accumulates over them, rows in groups that share each weight load. Every
    /// output is summed in the same order whatever `m` is (products in `k` order, then the
    /// bias), so a row's result does not depend on the rows computed with it.
    pub fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Option<()> {
        let (k, n) = (self.k, self.n);
        if x.len() != m.checked_mul(k)? || out.len() != m.checked_mul(n)? {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        if cpu::features().avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed); the lengths were checked above
            // and the panels and bias hold what `new` and `with_bias` made them hold.
            unsafe {
                zmm::forward(
                    Operand::Strided { x, rs: k, ks: 1 },
                    (m, k, n),
                    &self.panels,
                    self.bias.as_deref(),
                    out,
                    true,
                )
            };
            return Some(());
        }
        let blocks = n.div_ceil(NB);
        let work = |b: usize, tile: &mut [f32]| {
            tile.fill(0.0);
            let panel = &self.panels[b * k * NB..][..k * NB];
            for k0 in (0..k).step_by(KC) {
                let kc = KC.min(k - k0);
                dispatch(x, k, k0, &panel[k0 * NB..][..kc * NB], tile);
            }
        };
        let emit = |b: usize, tile: &[f32], out: &mut [f32]| {
            let j0 = b * NB;
            let width = NB.min(n - j0);
            for (r, acc) in tile.chunks_exact(NB).enumerate() {
                let dst = &mut out[r * n + j0..][..width];
                match &self.bias {
                    Some(bias) => {
                        for ((d, a), c) in dst.iter_mut().zip(acc).zip(&bias[j0..]) {
                            *d = a + c;
                        }
                    }
                    None => dst.copy_from_slice(&acc[..width]),
                }
            }
        };
        let tile_len = m * NB;
        if self.panels.len() >= PARALLEL_WEIGHTS && blocks > 1 && rayon::current_num_threads() > 1 {
            let tiles: Vec<Vec<f32>> = (0..blocks)
                .into_par_iter()
                .map(|b| {
                    let mut tile = vec![0f32; tile_len];
                    work(b, &mut tile);
                    tile
                })
                .collect();
            for (b, tile) in tiles.iter().enumerate() {
                emit(b, tile, out);
            }
        } else {
            let mut tile = vec![0f32; tile_len];
            for b in 0..blocks {
                work(b, &mut tile);
                emit(b, &tile, out);
            }
        }
        Some(())
    }
}

impl PackedLinear {
    /// [`Self::forward`] with `x` given transposed: `xt` is `k` x `m` row-major (an NCHW
    /// image's channels by pixels, the operand of a convolution with a 1x1 kernel or of its
    /// im2col columns). The AVX-512 kernel reads it in place; elsewhere it is transposed first.
    pub fn forward_transposed(&self, xt: &[f32], m: usize, out: &mut [f32]) -> Option<()> {
        let (k, n) = (self.k, self.n);
        if xt.len() != m.checked_mul(k)? || out.len() != m.checked_mul(n)? {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        if cpu::features().avx512() {
            // SAFETY: as in `forward`, with `xt` holding `k` rows of `m` values.
            unsafe {
                zmm::forward(
                    Operand::Strided {
                        x: xt,
                        rs: 1,
                        ks: m,
                    },
                    (m, k, n),
                    &self.panels,
                    self.bias.as_deref(),
                    out,
                    true,
                )
            };
            return Some(());
        }
        let mut x = vec![0f32; m * k];
        for (i, row) in xt.chunks_exact(m.max(1)).enumerate() {
            for (r, v) in row.iter().enumerate() {
                x[r * k + i] = *v;
            }
        }
        self.forward(&x, m, out)
    }

    /// [`Self::forward`] with row `r`'s step `i` read at `x[rows[r] + steps[i]]`: a
    /// convolution's input read in place, with `rows` its output pixels' window origins and
    /// `steps` (`k` of them) its reduction steps' offsets; on the calling thread alone unless
    /// `parallel`. AVX-512 only: `None` elsewhere, or when a read would leave `x` or the
    /// lengths do not match.
    pub fn forward_gathered(
        &self,
        x: &[f32],
        (rows, steps): (&[usize], &[usize]),
        out: &mut [f32],
        parallel: bool,
    ) -> Option<()> {
        let (m, k, n) = (rows.len(), self.k, self.n);
        let reach = rows.iter().max().copied().unwrap_or(0) + steps.iter().max().copied()?;
        if steps.len() != k || out.len() != m.checked_mul(n)? || (m > 0 && reach >= x.len()) {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        if cpu::features().avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed); every read `rows[r] + steps[i]`
            // lies inside `x` (checked above), the other lengths as in `forward`.
            unsafe {
                zmm::forward(
                    Operand::Gathered { x, rows, steps },
                    (m, k, n),
                    &self.panels,
                    self.bias.as_deref(),
                    out,
                    parallel,
                )
            };
            return Some(());
        }
        None
    }
}

/// Adds `x[:, k0..k0 + kc] w` to `tile` (`m` x [`NB`]), `w` the `kc` x `NB` panel slice.
fn dispatch(x: &[f32], k: usize, k0: usize, w: &[f32], tile: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { slice_avx2(x, k, k0, w, tile) };
        }
    }
    accumulate_rows::<1>(x, k, k0, w, tile);
}

/// One row at a time: a row's 64 accumulators take half of the 16 vector registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn slice_avx2(x: &[f32], k: usize, k0: usize, w: &[f32], tile: &mut [f32]) {
    accumulate_rows::<1>(x, k, k0, w, tile);
}

/// The rows of `tile` in groups of `R`, then one by one.
#[inline(always)]
fn accumulate_rows<const R: usize>(x: &[f32], k: usize, k0: usize, w: &[f32], tile: &mut [f32]) {
    let kc = w.len() / NB;
    let mut groups = tile.chunks_exact_mut(R * NB);
    let mut r0 = 0;
    for group in &mut groups {
        rows::<R>(x, k, r0, k0, kc, w, group);
        r0 += R;
    }
    for one in groups.into_remainder().chunks_exact_mut(NB) {
        rows::<1>(x, k, r0, k0, kc, w, one);
        r0 += 1;
    }
}

/// `R` rows from `r0`: `acc[r] += x[r0 + r, k0..k0 + kc] w` with the accumulators in registers.
#[inline(always)]
fn rows<const R: usize>(
    x: &[f32],
    k: usize,
    r0: usize,
    k0: usize,
    kc: usize,
    w: &[f32],
    acc: &mut [f32],
) {
    let xs: [&[f32]; R] = std::array::from_fn(|r| &x[(r0 + r) * k + k0..][..kc]);
    let mut a = [[0f32; NB]; R];
    for (dst, src) in a.iter_mut().zip(acc.chunks_exact(NB)) {
        dst.copy_from_slice(src);
    }
    for (i, row) in w.chunks_exact(NB).take(kc).enumerate() {
        let row: &[f32; NB] = row.try_into().expect("NB columns");
        for r in 0..R {
            let xi = xs[r][i];
            for t in 0..NB {
                a[r][t] += xi * row[t];
            }
        }
    }
    for (src, dst) in a.iter().zip(acc.chunks_exact_mut(NB)) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests;
