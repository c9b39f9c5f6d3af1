//! 2-D max pooling of float32 NCHW planes: each output row first takes the maximum over its
//! window's input rows (contiguous, vectorized), then over the window's columns, with the
//! common 2- and 3-wide windows unrolled. Padding is implicit (out-of-range taps are skipped,
//! as with `-inf` padding), so asymmetric pads and `ceil_mode` windows cost no copy.

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
}

impl PoolAxis {
    /// Input index of tap `t` of output `o`, when inside the input.
    #[inline(always)]
    fn tap(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dilation)
            .checked_sub(self.pad)
            .filter(|&i| i < self.input)
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
    let one = |(src, dst): (&[f32], &mut [f32])| dispatch(src, rows, cols, dst);
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

fn dispatch(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed).
            return unsafe { plane_avx512(src, rows, cols, dst) };
        }
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { plane_avx2(src, rows, cols, dst) };
        }
    }
    plane(src, rows, cols, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn plane_avx512(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    plane(src, rows, cols, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn plane_avx2(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    plane(src, rows, cols, dst);
}

#[inline(always)]
fn plane(src: &[f32], rows: PoolAxis, cols: PoolAxis, dst: &mut [f32]) {
    let w = cols.input;
    let mut tmp = vec![f32::NEG_INFINITY; w];
    let (lo, hi) = cols.interior();
    for (oy, out_row) in dst.chunks_exact_mut(cols.output).enumerate() {
        tmp.fill(f32::NEG_INFINITY);
        for ky in 0..rows.kernel {
            if let Some(iy) = rows.tap(oy, ky) {
                let row = &src[iy * w..(iy + 1) * w];
                for (t, &v) in tmp.iter_mut().zip(row) {
                    *t = if v > *t || v.is_nan() { v } else { *t };
                }
            }
        }
        let edge = |ox: usize| {
            let mut m = f32::NEG_INFINITY;
            for kx in 0..cols.kernel {
                if let Some(ix) = cols.tap(ox, kx) {
                    let v = tmp[ix];
                    m = if v > m || v.is_nan() { v } else { m };
                }
            }
            m
        };
        for ox in (0..lo).chain(hi..cols.output) {
            out_row[ox] = edge(ox);
        }
        let interior = &mut out_row[lo..hi];
        match (cols.kernel, cols.dilation) {
            (2, 1) => horizontal::<2>(&tmp, cols, lo, interior),
            (3, 1) => horizontal::<3>(&tmp, cols, lo, interior),
            _ => interior
                .iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o = edge(lo + i)),
        }
    }
}

/// The interior outputs of a `K`-wide undilated window: every tap is in range.
#[inline(always)]
fn horizontal<const K: usize>(tmp: &[f32], cols: PoolAxis, lo: usize, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        let base = (lo + i) * cols.stride - cols.pad;
        let taps: &[f32; K] = tmp[base..base + K].try_into().expect("K taps");
        let mut m = taps[0];
        for &v in &taps[1..] {
            m = if v > m || v.is_nan() { v } else { m };
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
