//! 2-D max and average pooling of float32 NCHW planes: each output row first reduces its
//! window's input rows (contiguous, vectorized), then the window's columns, with the common 2-
//! and 3-wide windows unrolled. Padding is implicit (out-of-range taps are skipped, as with
//! `-inf` padding for the maximum; an average divides by its in-range taps, or with
//! `count_include_pad` by its taps inside the explicit padding), so asymmetric pads and
//! `ceil_mode` windows cost no copy.

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

    /// Outputs whose every tap is inside the input: `lo..hi`.
    fn interior(&self) -> (usize, usize) {
        let span = (self.kernel - 1) * self.dilation;
        let lo = self.pad.div_ceil(self.stride).min(self.output);
        let hi = if self.input + self.pad > span {
            ((self.input + self.pad - span - 1) / self.stride + 1).min(self.output)
        } else {
            0
        };
        (lo, hi.max(lo))
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
    fn combine(acc: f32, v: f32) -> f32;
}

/// The maximum, NaN-propagating.
struct Max;

impl Reduce for Max {
    const EMPTY: f32 = f32::NEG_INFINITY;
    #[inline(always)]
    fn combine(acc: f32, v: f32) -> f32 {
        if v > acc || v.is_nan() { v } else { acc }
    }
}

/// The sum (divided by the window's count afterwards).
struct Sum;

impl Reduce for Sum {
    const EMPTY: f32 = 0.0;
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
    let one = |(src, dst): (&[f32], &mut [f32])| {
        dispatch::<R>(src, rows, cols, dst);
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

fn dispatch<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
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

#[inline(always)]
fn plane<R: Reduce>(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    let w = cols.input;
    let mut tmp = vec![R::EMPTY; w];
    let (lo, hi) = cols.interior();
    for (oy, out_row) in dst.chunks_exact_mut(cols.output).enumerate() {
        tmp.fill(R::EMPTY);
        for ky in 0..rows.kernel {
            if let Some(iy) = rows.tap(oy, ky) {
                let row = &src[iy * w..(iy + 1) * w];
                for (t, &v) in tmp.iter_mut().zip(row) {
                    *t = R::combine(*t, v);
                }
            }
        }
        let edge = |ox: usize| {
            let mut m = R::EMPTY;
            for kx in 0..cols.kernel {
                if let Some(ix) = cols.tap(ox, kx) {
                    m = R::combine(m, tmp[ix]);
                }
            }
            m
        };
        for ox in (0..lo).chain(hi..cols.output) {
            out_row[ox] = edge(ox);
        }
        let interior = &mut out_row[lo..hi];
        match (cols.kernel, cols.dilation) {
            (2, 1) => horizontal::<R, 2>(&tmp, cols, lo, interior),
            (3, 1) => horizontal::<R, 3>(&tmp, cols, lo, interior),
            _ => interior
                .iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o = edge(lo + i)),
        }
    }
}

/// The interior outputs of a `K`-wide undilated window: every tap is in range.
#[inline(always)]
fn horizontal<R: Reduce, const K: usize>(tmp: &[f32], cols: PoolAxis, lo: usize, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        let base = (lo + i) * cols.stride - cols.pad;
        let taps: &[f32; K] = tmp[base..base + K].try_into().expect("K taps");
        let mut m = taps[0];
        for &v in &taps[1..] {
            m = R::combine(m, v);
        }
        *o = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], rows: PoolAxis, cols: PoolAxis) -> Vec<f32> {
        let mut out = Vec::new();
        for oy in 0..rows.output {
            for ox in 0..cols.output {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..rows.kernel {
                    for kx in 0..cols.kernel {
                        if let (Some(iy), Some(ix)) = (rows.tap(oy, ky), cols.tap(ox, kx)) {
                            m = m.max(x[iy * cols.input + ix]);
                        }
                    }
                }
                out.push(m);
            }
        }
        out
    }

    fn axis(
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        pads: (usize, usize),
        ceil: bool,
    ) -> PoolAxis {
        let span = (kernel - 1) * dilation + 1;
        let room = input + pads.0 + pads.1 - span;
        let output = if ceil {
            room.div_ceil(stride) + 1
        } else {
            room / stride + 1
        };
        PoolAxis {
            input,
            output,
            kernel,
            stride,
            dilation,
            pad: pads.0,
            pad_end: pads.1,
        }
    }

    /// The average by its definition, in f64: in-range taps over their count, or over the taps
    /// inside the explicit padding.
    fn average(x: &[f32], rows: PoolAxis, cols: PoolAxis, include: bool) -> Vec<f32> {
        let inside = |a: &PoolAxis, o: usize, t: usize| {
            o * a.stride + t * a.dilation < a.pad + a.input + a.pad_end
        };
        let mut out = Vec::new();
        for oy in 0..rows.output {
            for ox in 0..cols.output {
                let (mut sum, mut n) = (0f64, 0usize);
                for ky in 0..rows.kernel {
                    for kx in 0..cols.kernel {
                        let tap = (rows.tap(oy, ky), cols.tap(ox, kx));
                        if let (Some(iy), Some(ix)) = tap {
                            sum += f64::from(x[iy * cols.input + ix]);
                            n += 1;
                        } else if include && inside(&rows, oy, ky) && inside(&cols, ox, kx) {
                            n += 1;
                        }
                    }
                }
                out.push((sum / n as f64) as f32);
            }
        }
        out
    }

    #[test]
    fn averages_match_the_definition() {
        let x: Vec<f32> = (0..3 * 14 * 37)
            .map(|i| ((i * 37 % 23) as f32) * 0.25 - 2.0)
            .collect();
        for (k, s, d, pads, ceil) in [
            (3, 2, 1, (1, 1), false),
            (3, 2, 1, (0, 1), true),
            (2, 2, 1, (0, 0), false),
            (3, 1, 1, (1, 1), false),
            (5, 3, 1, (2, 0), true),
            (3, 1, 2, (2, 2), false),
            (2, 1, 1, (1, 0), true),
        ] {
            for include in [false, true] {
                let rows = axis(14, k, s, d, pads, ceil);
                let cols = axis(37, k, s, d, pads, ceil);
                let mut out = vec![0f32; 3 * rows.output * cols.output];
                avg_pool2d(&x, 3, rows, cols, include, &mut out).unwrap();
                let want: Vec<f32> = x
                    .chunks(14 * 37)
                    .flat_map(|p| average(p, rows, cols, include))
                    .collect();
                for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                        "k{k} s{s} d{d} pads{pads:?} ceil {ceil} include {include}: {i}: {a} vs {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn matches_the_definition() {
        let x: Vec<f32> = (0..3 * 13 * 11)
            .map(|i| ((i * 37 % 23) as f32) - 11.0)
            .collect();
        for (k, s, d, pads, ceil) in [
            (3, 2, 1, (1, 1), false),
            (3, 2, 1, (0, 1), true),
            (2, 2, 1, (0, 0), false),
            (3, 1, 1, (1, 1), false),
            (5, 3, 1, (2, 0), true),
            (3, 1, 2, (2, 2), false),
            (1, 1, 1, (0, 0), false),
        ] {
            let rows = axis(13, k, s, d, pads, ceil);
            let cols = axis(11, k, s, d, pads, ceil);
            let mut out = vec![0f32; 3 * rows.output * cols.output];
            max_pool2d(&x, 3, rows, cols, &mut out).unwrap();
            let want: Vec<f32> = x
                .chunks(13 * 11)
                .flat_map(|p| reference(p, rows, cols))
                .collect();
            assert_eq!(out, want, "k{k} s{s} d{d} pads{pads:?} ceil {ceil}");
        }
    }
}
