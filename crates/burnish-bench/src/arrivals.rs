//! The Poisson arrival process, drawn from the seeded [`Rng`] of `burnish-stats`: a seed written
//! in a result file reproduces its arrival schedule.

use burnish_stats::Rng;

/// Open-loop Poisson arrivals: an endless iterator of scheduled issue times, in seconds from the
/// start of the run, with exponentially distributed gaps of mean `1 / qps`.
#[derive(Debug, Clone)]
pub struct PoissonArrivals {
    rng: Rng,
    qps: f64,
    t: f64,
}

impl PoissonArrivals {
    /// Arrivals at `qps` queries per second from `seed`. `qps` must be positive and finite.
    pub fn new(qps: f64, seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            qps,
            t: 0.0,
        }
    }
}

impl Iterator for PoissonArrivals {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        self.t += self.rng.exponential(self.qps);
        Some(self.t)
    }
}
