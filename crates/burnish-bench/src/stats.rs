//! Summary statistics: latency percentiles from a histogram, compact CDFs, and small helpers on
//! slices (median, mean, coefficient of variation, quantiles).

use serde::{Deserialize, Serialize};

use crate::histogram::LatencyRecorder;

/// Latency distribution of a run, in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Number of values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_us: f64,
    /// Standard deviation.
    pub stddev_us: f64,
    /// Coefficient of variation, `stddev / mean` (0 when the mean is 0).
    pub cv: f64,
    /// Minimum.
    pub min_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Maximum.
    pub max_us: f64,
}

/// The percentiles reported for every run, as `(name, quantile)`.
pub const PERCENTILES: [(&str, f64); 5] = [
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.9", 0.999),
];

impl LatencyStats {
    /// Statistics of everything in `rec` (all zero when empty).
    pub fn from_recorder(rec: &LatencyRecorder) -> Self {
        let h = rec.histogram();
        if h.is_empty() {
            return Self::default();
        }
        let q = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
        let mean_us = h.mean() / 1e3;
        let stddev_us = h.stdev() / 1e3;
        Self {
            count: h.len(),
            mean_us,
            stddev_us,
            cv: if mean_us > 0.0 {
                stddev_us / mean_us
            } else {
                0.0
            },
            min_us: h.min() as f64 / 1e3,
            p50_us: q(0.50),
            p90_us: q(0.90),
            p95_us: q(0.95),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: h.max() as f64 / 1e3,
        }
    }

    /// The value of a named percentile (`p50`, `p90`, `p95`, `p99`, `p99.9`, `max`, `mean`).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "p50" => self.p50_us,
            "p90" => self.p90_us,
            "p95" => self.p95_us,
            "p99" => self.p99_us,
            "p99.9" => self.p999_us,
            "max" => self.max_us,
            "mean" => self.mean_us,
            _ => return None,
        })
    }

    /// The latency at quantile `q` in `[0, 1]`, interpolating the stored percentiles. Only the
    /// stored points are exact; use the run's CDF for more.
    pub fn percentile_us(&self, q: f64) -> f64 {
        let points = [
            (0.0, self.min_us),
            (0.5, self.p50_us),
            (0.9, self.p90_us),
            (0.95, self.p95_us),
            (0.99, self.p99_us),
            (0.999, self.p999_us),
            (1.0, self.max_us),
        ];
        interpolate(&points, q)
    }
}

/// One point of an empirical CDF: a fraction `q` of values are at most `us` microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CdfPoint {
    /// Cumulative fraction, in `[0, 1]`.
    pub q: f64,
    /// Latency at that fraction, µs.
    pub us: f64,
}

/// The quantiles at which a compact CDF is stored: dense in the tail.
pub fn cdf_quantiles() -> Vec<f64> {
    let mut qs: Vec<f64> = (0..=18).map(|i| f64::from(i) * 0.05).collect();
    qs.extend((91..=99).map(|i| f64::from(i) / 100.0));
    qs.extend([0.995, 0.999, 0.9995, 0.9999, 1.0]);
    qs
}

/// A compact CDF of everything in `rec`, at [`cdf_quantiles`].
pub fn compact_cdf(rec: &LatencyRecorder) -> Vec<CdfPoint> {
    let h = rec.histogram();
    if h.is_empty() {
        return Vec::new();
    }
    cdf_quantiles()
        .into_iter()
        .map(|q| CdfPoint {
            q,
            us: if q == 0.0 {
                h.min()
            } else {
                h.value_at_quantile(q)
            } as f64
                / 1e3,
        })
        .collect()
}

fn interpolate(points: &[(f64, f64)], q: f64) -> f64 {
    let q = q.clamp(0.0, 1.0);
    for w in points.windows(2) {
        let ((q0, v0), (q1, v1)) = (w[0], w[1]);
        if q <= q1 {
            return v0 + (v1 - v0) * (q - q0) / (q1 - q0);
        }
    }
    points.last().map_or(0.0, |p| p.1)
}

/// Arithmetic mean (0 for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Sample standard deviation (n - 1 denominator; 0 below two values).
pub fn stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Coefficient of variation, `stddev / mean` (0 when the mean is 0).
pub fn cv(xs: &[f64]) -> f64 {
    let m = mean(xs);
    if m == 0.0 { 0.0 } else { stddev(xs) / m.abs() }
}

/// Quantile `q` of `xs` by linear interpolation between order statistics (type 7, as in R and
/// NumPy). Sorts `xs` in place; NaN for an empty slice.
pub fn quantile_mut(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let h = (xs.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    xs[lo] + (xs[hi] - xs[lo]) * (h - lo as f64)
}

/// Median of `xs` (NaN when empty), without modifying it.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    quantile_mut(&mut v, 0.5)
}
