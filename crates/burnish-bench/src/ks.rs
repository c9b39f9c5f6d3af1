//! One-sample Kolmogorov-Smirnov test, used to check that the arrival generator really produces
//! exponential inter-arrival times.

use serde::{Deserialize, Serialize};

/// Outcome of a one-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    /// Number of samples.
    pub n: usize,
    /// The statistic `D = sup |F_n(x) - F(x)|`.
    pub statistic: f64,
    /// Probability of a statistic at least this large if the samples follow `F`.
    pub p_value: f64,
}

/// The KS statistic of `samples` against the continuous CDF `cdf`.
pub fn ks_statistic(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut xs = samples.to_vec();
    xs.sort_by(f64::total_cmp);
    let n = xs.len() as f64;
    xs.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            let above = (i as f64 + 1.0) / n - f;
            let below = f - i as f64 / n;
            above.max(below)
        })
        .fold(0.0, f64::max)
}

/// Asymptotic p-value of statistic `d` for `n` samples: the Kolmogorov distribution's survival
/// function at `(sqrt(n) + 0.12 + 0.11 / sqrt(n)) * d` (Stephens' small-sample correction).
pub fn ks_p_value(d: f64, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let sn = (n as f64).sqrt();
    let lambda = (sn + 0.12 + 0.11 / sn) * d;
    kolmogorov_survival(lambda)
}

/// Runs the test: statistic and p-value of `samples` against `cdf`.
pub fn ks_test(samples: &[f64], cdf: impl Fn(f64) -> f64) -> KsTest {
    let statistic = ks_statistic(samples, cdf);
    KsTest {
        n: samples.len(),
        statistic,
        p_value: ks_p_value(statistic, samples.len()),
    }
}

/// `P(K > lambda)` for the Kolmogorov distribution. Two series, each used where it converges
/// fast: the alternating one for large `lambda`, the theta-function form for small.
fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.18 {
        let pi2 = std::f64::consts::PI.powi(2);
        let cdf = (std::f64::consts::TAU).sqrt() / lambda
            * (1..=20)
                .map(|j| {
                    let k = f64::from(2 * j - 1);
                    (-k * k * pi2 / (8.0 * lambda * lambda)).exp()
                })
                .sum::<f64>();
        (1.0 - cdf).clamp(0.0, 1.0)
    } else {
        let s = (1..=100)
            .map(|j| {
                let j = f64::from(j);
                let sign = if j as u32 % 2 == 1 { 1.0 } else { -1.0 };
                sign * (-2.0 * j * j * lambda * lambda).exp()
            })
            .sum::<f64>();
        (2.0 * s).clamp(0.0, 1.0)
    }
}
