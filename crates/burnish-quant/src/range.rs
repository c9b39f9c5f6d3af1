//! Activation ranges from calibration statistics, and the quantization parameters they give.
//!
//! The histogram methods choose a threshold `T` on |x|; the range is then
//! `[max(min, -T), min(max, T)]` (`[0, min(max, T)]` for non-negative tensors, such as Relu
//! outputs, whose whole code range then covers `[0, T]`).
//!
//! | method | threshold |
//! |---|---|
//! | `minmax` | none: the observed range |
//! | `percentile:P` | the P-th percentile of |x| |
//! | `entropy` | TensorRT's: the `T` minimizing KL(P, Q) where P is the histogram clipped at `T` (outliers folded into the last bin) and Q is P merged into as many bins as there are codes on one side and expanded back |
//! | `mse` | the `T` minimizing the expected squared error: `step^2 / 12` per value inside the range, `(|x| - T)^2` per clipped value |

use crate::calibrate::{BINS, TensorStats};
use crate::config::{ActivationType, RangeMethod};

/// The range `(lo, hi)` to quantize a tensor with `stats` over.
pub fn choose_range(stats: &TensorStats, method: RangeMethod) -> (f32, f32) {
    let nonneg = stats.min >= 0.0;
    let top = stats.abs_max();
    let total: u64 = stats.hist.iter().sum();
    if method == RangeMethod::MinMax || top <= 0.0 || total == 0 {
        return (stats.min.min(0.0), stats.max.max(0.0));
    }
    let width = top as f64 / BINS as f64;
    let h = &stats.hist;
    let t = match method {
        RangeMethod::MinMax => unreachable!("returned above"),
        RangeMethod::Percentile(p) => {
            let want = (p / 100.0 * total as f64).ceil() as u64;
            let mut cum = 0;
            let b = h
                .iter()
                .position(|&c| {
                    cum += c;
                    cum >= want
                })
                .unwrap_or(BINS - 1);
            (b + 1) as f64 * width
        }
        RangeMethod::Entropy => {
            let levels = if nonneg { 255 } else { 128 };
            (kl_threshold(h, levels) as f64 + 0.5) * width
        }
        RangeMethod::Mse => {
            let levels = if nonneg { 255.0 } else { 127.5 };
            mse_threshold(h, width, levels)
        }
    } as f32;
    if nonneg {
        (0.0, stats.max.min(t))
    } else {
        (stats.min.max(-t).min(0.0), stats.max.min(t).max(0.0))
    }
}

/// TensorRT's entropy calibration: the number of bins `i` (at least `levels`) whose clipped
/// histogram loses the least information when merged into `levels` bins.
fn kl_threshold(hist: &[u64], levels: usize) -> usize {
    let n = hist.len();
    if n <= levels {
        return n - 1;
    }
    let mut best = (f64::INFINITY, n);
    for i in levels..=n {
        let mut p: Vec<f64> = hist[..i].iter().map(|&c| c as f64).collect();
        p[i - 1] += hist[i..].iter().map(|&c| c as f64).sum::<f64>();
        let mut q = vec![0.0f64; i];
        for j in 0..levels {
            let (a, b) = (j * i / levels, (j + 1) * i / levels);
            let total: f64 = hist[a..b].iter().map(|&c| c as f64).sum();
            let nonzero = hist[a..b].iter().filter(|&&c| c > 0).count();
            if nonzero > 0 {
                let each = total / nonzero as f64;
                for k in a..b {
                    if hist[k] > 0 {
                        q[k] = each;
                    }
                }
            }
        }
        let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
        if sp <= 0.0 || sq <= 0.0 {
            continue;
        }
        let mut kl = 0.0;
        for (pk, qk) in p.iter().zip(&q) {
            if *pk > 0.0 {
                let (pk, qk) = (pk / sp, (qk / sq).max(1e-12));
                kl += pk * (pk / qk).ln();
            }
        }
        if kl < best.0 {
            best = (kl, i);
        }
    }
    best.1 - 1
}

/// The threshold minimizing rounding plus clipping error, `levels` steps per threshold.
fn mse_threshold(hist: &[u64], width: f64, levels: f64) -> f64 {
    let mut best = (f64::INFINITY, hist.len() as f64 * width);
    for i in 1..=hist.len() {
        let t = i as f64 * width;
        let step = t / levels;
        let mut err = 0.0;
        for (b, &c) in hist.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let x = (b as f64 + 0.5) * width;
            err += c as f64
                * if x <= t {
                    step * step / 12.0
                } else {
                    (x - t) * (x - t)
                };
        }
        if err < best.0 {
            best = (err, t);
        }
    }
    best.1
}

/// Asymmetric quantization parameters `(scale, zero_point)` mapping `[lo, hi]` (widened to
/// include 0, so that 0 is exact) onto the codes of `ty`.
pub fn activation_params(lo: f32, hi: f32, ty: ActivationType) -> (f32, i32) {
    let (qmin, qmax) = ty.range();
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    if hi - lo <= f32::MIN_POSITIVE {
        return (1.0, if qmin < 0 { 0 } else { qmin });
    }
    let scale = (hi - lo) / (qmax - qmin) as f32;
    let zp = (qmin as f32 - lo / scale).round_ties_even() as i32;
    (scale, zp.clamp(qmin, qmax))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(values: &[f32]) -> TensorStats {
        let min = values.iter().copied().fold(f32::INFINITY, f32::min);
        let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let top = min.abs().max(max.abs());
        let mut hist = vec![0u64; BINS];
        for x in values {
            hist[((x.abs() / top * BINS as f32) as usize).min(BINS - 1)] += 1;
        }
        TensorStats {
            min,
            max,
            hist,
            dtype: None,
        }
    }

    #[test]
    fn minmax_is_the_observed_range_widened_to_zero() {
        let s = stats(&[0.5, 1.0, 3.0]);
        assert_eq!(choose_range(&s, RangeMethod::MinMax), (0.0, 3.0));
    }

    #[test]
    fn percentile_clips_a_lone_outlier() {
        let mut v: Vec<f32> = (0..10_000).map(|i| (i % 100) as f32 / 100.0).collect();
        v.push(100.0);
        let (lo, hi) = choose_range(&stats(&v), RangeMethod::Percentile(99.9));
        assert_eq!(lo, 0.0);
        assert!(hi > 0.9 && hi < 1.2, "{hi}");
    }

    #[test]
    fn entropy_and_mse_clip_a_long_tail_but_keep_the_bulk() {
        let mut rng = burnish_stats::Rng::new(12345);
        let mut v: Vec<f32> = (0..20_000).map(|_| rng.normal() as f32).collect();
        v.extend([50.0, -40.0]);
        let (lo, hi) = choose_range(&stats(&v), RangeMethod::Entropy);
        assert!((2.0..20.0).contains(&hi), "entropy: {hi}");
        assert!(lo <= -2.0 && lo > -20.0, "entropy: {lo}");
        let err = |(lo, hi): (f32, f32)| -> f64 {
            let (s, z) = activation_params(lo, hi, ActivationType::U8);
            v.iter()
                .map(|&x| {
                    let q = ((x / s).round() + z as f32).clamp(0.0, 255.0);
                    let d = ((q - z as f32) * s - x) as f64;
                    d * d
                })
                .sum()
        };
        let mse = err(choose_range(&stats(&v), RangeMethod::Mse));
        for other in [
            RangeMethod::MinMax,
            RangeMethod::Entropy,
            RangeMethod::Percentile(99.9),
        ] {
            let e = err(choose_range(&stats(&v), other));
            assert!(mse <= 1.05 * e, "mse {mse} vs {other} {e}");
        }
    }

    #[test]
    fn params_map_the_range_ends_to_the_code_ends() {
        let (s, zp) = activation_params(-1.0, 3.0, ActivationType::U8);
        assert!((s - 4.0 / 255.0).abs() < 1e-7);
        assert_eq!(zp, 64);
        let (s, zp) = activation_params(0.0, 2.55, ActivationType::S8);
        assert!((s - 0.01).abs() < 1e-7);
        assert_eq!(zp, -128);
    }
}
