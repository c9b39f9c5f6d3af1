//! Bootstrap confidence intervals for the ratio of two medians.
//!
//! # Scheme
//!
//! Data come in *paired rounds*: round `i` holds the latencies of side A and side B measured
//! back to back, so that slow drift of the machine (thermal, frequency, neighbours) hits both
//! sides of a round alike. The statistic is `median(all A) / median(all B)`.
//!
//! Each bootstrap replicate is two-level (a hierarchical bootstrap):
//! 1. draw `R` round indices with replacement, the same indices for both sides (keeps pairing);
//! 2. within each drawn round, redraw that round's samples with replacement, per side;
//! 3. pool per side, take the medians, and their ratio.
//!
//! The percentile interval of the replicates is the confidence interval. Level 1 captures
//! round-to-round variation (drift, warm-up, scheduling), level 2 the sampling noise inside a
//! round. Resampling both levels counts within-round noise roughly twice, so the interval is
//! somewhat conservative: it errs toward "inconclusive" rather than toward a false verdict.
//! With a single round it reduces to the ordinary bootstrap of two independent samples, which
//! is what the regression gate uses for two stored runs.

use serde::{Deserialize, Serialize};

use burnish_stats::Rng;

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of bootstrap replicates.
    pub resamples: usize,
    /// Two-sided confidence level, e.g. `0.95`.
    pub confidence: f64,
    /// Seed of the resampling generator.
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 0x5EED,
        }
    }
}

/// A point estimate of a ratio with its bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioCi {
    /// The ratio on the full data.
    pub estimate: f64,
    /// Lower bound of the interval.
    pub lo: f64,
    /// Upper bound of the interval.
    pub hi: f64,
    /// Confidence level of the interval.
    pub confidence: f64,
}

impl RatioCi {
    /// Whether `x` lies inside the interval (bounds included).
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Median by selection; NaN when empty. Reorders `xs`.
pub fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let (left, mid, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *mid;
    if n % 2 == 1 {
        upper
    } else {
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

fn pooled_median(rounds: &[Vec<f64>], buf: &mut Vec<f64>) -> f64 {
    buf.clear();
    for r in rounds {
        buf.extend_from_slice(r);
    }
    median_in_place(buf)
}

/// Bootstrap CI of `median(pooled a) / median(pooled b)` over paired rounds (see the module
/// docs). `rounds_a` and `rounds_b` must have the same number of rounds; empty rounds are
/// allowed but every side needs at least one sample. Returns `None` when a side has no data.
pub fn median_ratio_ci(
    rounds_a: &[Vec<f64>],
    rounds_b: &[Vec<f64>],
    cfg: &BootstrapConfig,
) -> Option<RatioCi> {
    if rounds_a.len() != rounds_b.len()
        || rounds_a.iter().all(Vec::is_empty)
        || rounds_b.iter().all(Vec::is_empty)
    {
        return None;
    }
    let mut buf = Vec::new();
    let estimate = pooled_median(rounds_a, &mut buf) / pooled_median(rounds_b, &mut buf);
    let mut rng = Rng::new(cfg.seed);
    let r = rounds_a.len() as u64;
    let mut ratios = Vec::with_capacity(cfg.resamples);
    let (mut pool_a, mut pool_b) = (Vec::new(), Vec::new());
    let mut picks = Vec::with_capacity(rounds_a.len());
    for _ in 0..cfg.resamples {
        picks.clear();
        picks.extend((0..r).map(|_| rng.below(r) as usize));
        pool_a.clear();
        pool_b.clear();
        for &i in &picks {
            resample_into(&rounds_a[i], &mut pool_a, &mut rng);
            resample_into(&rounds_b[i], &mut pool_b, &mut rng);
        }
        if pool_a.is_empty() || pool_b.is_empty() {
            continue;
        }
        ratios.push(median_in_place(&mut pool_a) / median_in_place(&mut pool_b));
    }
    if ratios.is_empty() {
        return None;
    }
    let alpha = (1.0 - cfg.confidence) / 2.0;
    let lo = crate::stats::quantile_mut(&mut ratios, alpha);
    let hi = crate::stats::quantile_mut(&mut ratios, 1.0 - alpha);
    Some(RatioCi {
        estimate,
        lo,
        hi,
        confidence: cfg.confidence,
    })
}

fn resample_into(src: &[f64], dst: &mut Vec<f64>, rng: &mut Rng) {
    let n = src.len() as u64;
    dst.extend((0..n).map(|_| src[rng.below(n) as usize]));
}
