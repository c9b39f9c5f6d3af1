//! 2-D max and average pooling of float32 NCHW planes: each output row first reduces its
//! window's input rows (contiguous, vectorized), then the window's columns, with the common 2-
//! and 3-wide windows unrolled. Padding is implicit (out-of-range taps are skipped, as with
//! `-inf` padding for the maximum; an average divides by its in-range taps, or with
//! `count_include_pad` by its taps inside the explicit padding), so asymmetric pads and
//! `ceil_mode` windows cost no copy. On AVX-512 CPUs, windows 2 or 3 columns wide with column
//! stride 2 (the CNN stem and stage pools) run in registers instead (`stride2`), and so do
//! stride-1 windows that keep a small plane's size (`stride1`).

use rayon::prelude::*;

use crate::cpu;

/// The geometry of one axis of a pooling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolAxis {
    /// Input size.
    pub input: usize,
    /// Output size (already including `ceil_mode`).
    pub output: usize,
    /// Window size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation.
    pub dilation: usize,
    /// Padding before the first element.
    pub pad: usize,
    /// Padding after the last element (only an average with `count_include_pad` reads it).
    pub pad_end: usize,
}

impl PoolAxis {
    /// Input index of tap `t` of output `o`, when inside the input.
    #[inline(always)]
    /// One window that reads exactly the whole input: no padding, no dilated gaps.
    fn covers_input(&self) -> bool {
        self.output == 1
            && self.kernel == self.input
            && self.pad == 0
            && self.pad_end == 0
            && (self.dilation == 1 || self.kernel == 1)
    }

    fn tap(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dilation)
            .checked_sub(self.pad)
            .filter(|&i| i < self.input)
    }

    /// Taps of output `o` inside the input, or with `padded` inside the explicit padding.
    fn count(&self, o: usize, padded: bool) -> usize {
        (0..self.kernel)
            .filter(|&t| {
                if padded {
                    o * self.stride + t * self.dilation < self.pad + self.input + self.pad_end
                } else {
                    self.tap(o, t).is_some()
                }
            })
            .count()
    }
}

/// Max-pools `planes` planes of `rows.input x cols.input` (contiguous) into `out`
/// (`planes x rows.output x cols.output`). `None` when a size is inconsistent or a window
/// has a zero extent.
pub fn max_pool2d(
    x: &[f32],
    planes: usize,
    rows: PoolAxis,
    cols: PoolAxis,
    out: &mut [f32],
) -> Option<()> {
    pool2d::<Max>(x, planes, rows, cols, &[], out)
}

/// Average-pools like [`max_pool2d`]: each output is the sum of its in-range taps divided by
/// their count, or with `include_pad` by the count of its taps inside the explicit padding
/// (ONNX `count_include_pad`; `ceil_mode` overhang never counts).
pub fn avg_pool2d(
    x: &[f32],
    planes: usize,
    rows: PoolAxis,
    cols: PoolAxis,
    include_pad: bool,
    out: &mut [f32],
) -> Option<()> {
    let counts: Vec<f32> = (0..rows.output)
        .flat_map(|oy| {
            let r = rows.count(oy, include_pad);
            (0..cols.output).map(move |ox| (r * cols.count(ox, include_pad)) as f32)
        })
        .collect();
    pool2d::<Sum>(x, planes, rows, cols, &counts, out)
}

/// How a pool combines taps.
trait Reduce {
    /// The value of a window without taps.
    const EMPTY: f32;
    /// Whether this is [`Max`] (else [`Sum`]).
    const MAX: bool;
    fn combine(acc: f32, v: f32) -> f32;
}

/// The maximum, NaN-propagating.
struct Max;

impl Reduce for Max {
    const EMPTY: f32 = f32::NEG_INFINITY;
    const MAX: bool = true;
    #[inline(always)]
    fn combine(acc: f32, v: f32) -> f32 {
        if v > acc || v.is_nan() { v } else { acc }
    }
}

/// The sum (divided by the window's count afterwards).
struct Sum;

impl Reduce for Sum {
    const EMPTY: f32 = 0.0;
    const MAX: bool = false;
    #[inline(always)]
    fn combine(acc: f32, v: f32) -> f32 {
        acc + v
    }
}

/// Pools every plane with `R`; `counts` (one per output of a plane) divide the results
/// when not empty.
fn pool2d<R: Reduce>(
    x: &[f32],
    planes: usize,
    rows: PoolAxis,
    cols: PoolAxis,
    counts: &[f32],
    out: &mut [f32],
) -> Option<()> {
    let plane_in = rows.input.checked_mul(cols.input)?;
    let plane_out = rows.output.checked_mul(cols.output)?;
    if x.len() != planes.checked_mul(plane_in)?
        || out.len() != planes.checked_mul(plane_out)?
        || [
            rows.kernel,
            cols.kernel,
            rows.stride,
            cols.stride,
            rows.dilation,
            cols.dilation,
        ]
        .contains(&0)
    {
        return None;
    }
    if plane_out == 0 {
        return Some(());
    }
    let whole = plane_out == 1 && rows.covers_input() && cols.covers_input();
    let one = |(src, dst): (&[f32], &mut [f32])| {
        if whole {
            dst[0] = reduce_all::<R>(src);
        } else {
            dispatch::<R>(src, rows, cols, dst);
        }
        if !counts.is_empty() {
            dst.iter_mut().zip(counts).for_each(|(v, &c)| *v /= c);
        }
    };
    if plane_in.max(1) * planes >= 1 << 15 && planes > 1 && rayon::current_num_threads() > 1 {
        x.par_chunks(plane_in.max(1))
            .zip(out.par_chunks_mut(plane_out))
            .for_each(one);
    } else {
        x.chunks(plane_in.max(1))
            .zip(out.chunks_mut(plane_out))
            .for_each(one);
    }
    Some(())
}

/// `R` over all of `src` (a window that is the whole plane: the global pools of classifier
/// heads exported as `AveragePool` with a 7x7 kernel), in sixteen interleaved lanes.
fn reduce_all<R: Reduce>(src: &[f32]) -> f32 {
    let mut lanes = [R::EMPTY; 16];
    let mut chunks = src.chunks_exact(16);
    for chunk in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l = R::combine(*l, v);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(R::EMPTY, |a, &v| R::combine(a, v));
    lanes.iter().fold(tail, |a, &v| R::combine(a, v))
}

fn dispatch<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    if stride2::plane(src, rows, cols, R::MAX, dst) || stride1::plane(src, rows, cols, R::MAX, dst)
    {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed).
            return unsafe { plane_avx512::<R>(src, rows, cols, dst) };
        }
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { plane_avx2::<R>(src, rows, cols, dst) };
        }
    }
    plane::<R>(src, rows, cols, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn plane_avx512<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    plane::<R>(src, rows, cols, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn plane_avx2<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    plane::<R>(src, rows, cols, dst);
}

/// One plane: each output row's window rows are reduced into a row buffer that holds the input
/// row between `R::EMPTY` margins (the padding and any `ceil_mode` overhang), so every output
/// column reads its taps without bounds checks.
#[inline(always)]
fn plane<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    let (w, n) = (cols.input, cols.output);
    let span = (n - 1) * cols.stride + (cols.kernel - 1) * cols.dilation + 1;
    let mut tmp = vec![R::EMPTY; span.max(cols.pad + w)];
    let (mut evens, mut odds) = (vec![0f32; span.div_ceil(2)], vec![0f32; span / 2]);
    for (oy, out_row) in dst.chunks_exact_mut(n).enumerate() {
        vertical::<R>(src, rows, oy, w, &mut tmp[cols.pad..cols.pad + w]);
        let (k, d) = (cols.kernel, cols.dilation);
        if cols.stride == 1 {
            reduce_runs::<R>((0..k).map(|t| &tmp[t * d..][..n]), out_row);
        } else if cols.stride == 2 && d == 1 && matches!(k, 2 | 3) && n >= 24 {
            crate::f32::phase::deinterleave2(&tmp[..2 * n + k - 2], &mut evens, &mut odds);
            let pairs = out_row.iter_mut().zip(&evens[..n]).zip(&odds[..n]);
            if k == 3 {
                for ((o, &a), (&b, &c)) in pairs
                    .zip(evens[1..=n].iter())
                    .map(|(((o, a), b), c)| ((o, a), (b, c)))
                {
                    *o = R::combine(R::combine(a, b), c);
                }
            } else {
                for ((o, &a), &b) in pairs {
                    *o = R::combine(a, b);
                }
            }
        } else {
            match (k, d) {
                (2, 1) => horizontal::<R, 2>(&tmp, cols.stride, out_row),
                (3, 1) => horizontal::<R, 3>(&tmp, cols.stride, out_row),
                _ => {
                    for (ox, o) in out_row.iter_mut().enumerate() {
                        let taps = (0..k).map(|t| tmp[ox * cols.stride + t * d]);
                        *o = taps.fold(R::EMPTY, R::combine);
                    }
                }
            }
        }
    }
}

/// Reduces the in-range input rows of output row `oy` into `tmp`, up to three rows per pass
/// (each pass writes `tmp` whole, without reading it back per row).
#[inline(always)]
fn vertical<R: Reduce>(src: &[f32], rows: PoolAxis, oy: usize, w: usize, tmp: &mut [f32]) {
    let taps = (0..rows.kernel)
        .filter_map(|ky| rows.tap(oy, ky))
        .map(|iy| &src[iy * w..(iy + 1) * w]);
    reduce_runs::<R>(taps, tmp);
}

/// Reduces the runs `taps` (each at least `tmp.len()` long) into `tmp`, up to three per pass;
/// no runs leave `R::EMPTY`.
#[inline(always)]
fn reduce_runs<'a, R: Reduce>(mut taps: impl Iterator<Item = &'a [f32]>, tmp: &mut [f32]) {
    let mut first = true;
    loop {
        let (a, b, c) = (taps.next(), taps.next(), taps.next());
        match (first, a, b, c) {
            (_, None, _, _) => break,
            (true, Some(a), None, _) => tmp.copy_from_slice(a),
            (true, Some(a), Some(b), None) => {
                for ((t, &x), &y) in tmp.iter_mut().zip(a).zip(b) {
                    *t = R::combine(x, y);
                }
            }
            (true, Some(a), Some(b), Some(c)) => {
                for (((t, &x), &y), &z) in tmp.iter_mut().zip(a).zip(b).zip(c) {
                    *t = R::combine(R::combine(x, y), z);
                }
            }
            (false, Some(a), b, c) => {
                for row in [Some(a), b, c].into_iter().flatten() {
                    for (t, &v) in tmp.iter_mut().zip(row) {
                        *t = R::combine(*t, v);
                    }
                }
            }
        }
        first = false;
    }
    if first {
        tmp.fill(R::EMPTY);
    }
}

/// A `K`-wide undilated window at every output of a margin-padded row buffer.
#[inline(always)]
fn horizontal<R: Reduce, const K: usize>(tmp: &[f32], stride: usize, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        let base = i * stride;
        let taps: &[f32; K] = tmp[base..base + K].try_into().expect("K taps");
        let mut m = taps[0];
        for &v in &taps[1..] {
            m = R::combine(m, v);
        }
        *o = m;
    }
}

mod stride1;
mod stride2;
#[cfg(test)]
mod tests;
