//! `Softmax` and `LogSoftmax` over contiguous rows: one pass for the maximum, one for the
//! exponentials and their sum, one to scale, each vectorized at the CPU's width.

use rayon::prelude::*;

use super::math::exp;
use crate::cpu;

const LANES: usize = 16;

/// Softmax (or, with `log`, log-softmax) of every row of `row` elements of `v`, in place.
/// Does nothing when `row` is 0 or does not divide `v`'s length.
pub fn softmax_rows(v: &mut [f32], row: usize, log: bool) {
    if row == 0 || !v.len().is_multiple_of(row) {
        return;
    }
    let per_task = (super::map::PARALLEL_ELEMENTS / row).max(1) * row;
    if v.len() >= super::map::PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        v.par_chunks_mut(per_task)
            .for_each(|c| c.chunks_exact_mut(row).for_each(|r| dispatch(r, log)));
    } else {
        v.chunks_exact_mut(row).for_each(|r| dispatch(r, log));
    }
}

fn dispatch(r: &mut [f32], log: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        let feats = cpu::features();
        if feats.avx512() {
            // SAFETY: the CPU has AVX-512F and FMA (probed).
            return unsafe { row_avx512(r, log) };
        }
        if feats.avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (probed).
            return unsafe { row_avx2(r, log) };
        }
    }
    one_row(r, log);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn row_avx512(r: &mut [f32], log: bool) {
    one_row(r, log);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn row_avx2(r: &mut [f32], log: bool) {
    one_row(r, log);
}

#[inline(always)]
fn one_row(r: &mut [f32], log: bool) {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = r.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            lanes[i] = lanes[i].max(c[i]);
        }
    }
    let mut m = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |a, &x| a.max(x));
    m = lanes.iter().fold(m, |a, &x| a.max(x));
    let mut sums = [0f32; LANES];
    if log {
        let mut chunks = r.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                sums[i] += exp(c[i] - m);
            }
        }
        let tail: f32 = chunks.remainder().iter().map(|&x| exp(x - m)).sum();
        let shift = m + (sums.iter().sum::<f32>() + tail).ln();
        r.iter_mut().for_each(|x| *x -= shift);
        return;
    }
    let mut chunks = r.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            c[i] = exp(c[i] - m);
            sums[i] += c[i];
        }
    }
    let mut tail = 0f32;
    for x in chunks.into_remainder() {
        *x = exp(*x - m);
        tail += *x;
    }
    let inv = 1.0 / (sums.iter().sum::<f32>() + tail);
    r.iter_mut().for_each(|x| *x *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(r: &[f32], log: bool) -> Vec<f64> {
        let m = r.iter().fold(f64::NEG_INFINITY, |a, &x| a.max(x as f64));
        let s: f64 = r.iter().map(|&x| (x as f64 - m).exp()).sum();
        r.iter()
            .map(|&x| {
                if log {
                    x as f64 - m - s.ln()
                } else {
                    (x as f64 - m).exp() / s
                }
            })
            .collect()
    }

    #[test]
    fn rows_match_f64() {
        for row in [1, 5, 16, 33, 128] {
            let v: Vec<f32> = (0..row * 7)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.21)
                .collect();
            for log in [false, true] {
                let mut got = v.clone();
                softmax_rows(&mut got, row, log);
                for (g, r) in got.chunks(row).zip(v.chunks(row)) {
                    for (a, b) in g.iter().zip(reference(r, log)) {
                        assert!(
                            (*a as f64 - b).abs() <= 1e-6 * b.abs().max(1.0),
                            "{a} vs {b}"
                        );
                    }
                }
            }
        }
    }
}
