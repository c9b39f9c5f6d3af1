//! A synthetic target with a spread of service times, built from burnish-bench's
//! [`FixedServiceTarget`].

use std::sync::Mutex;
use std::time::Duration;

use burnish_bench::{FixedServiceTarget, Rng, Target, TargetError};

/// A target whose service time varies from query to query: it picks one of several fixed
/// service-time targets (log-normal spread around `median`, 1% slow outliers).
pub struct JitterTarget {
    name: String,
    levels: Vec<FixedServiceTarget>,
    rng: Mutex<Rng>,
}

impl JitterTarget {
    /// A target named `name` whose service times spread log-normally around `median_us`.
    pub fn new(name: &str, median_us: f64, seed: u64) -> Self {
        let levels = (0..32)
            .map(|k| {
                let z = (f64::from(k) + 0.5) / 32.0;
                let spread = (0.18 * probit(z)).exp();
                let service = Duration::from_secs_f64(median_us * spread / 1e6);
                let per_item = Duration::from_secs_f64(median_us * 0.3 / 1e6);
                FixedServiceTarget::new(service).with_per_item(per_item)
            })
            .collect();
        Self {
            name: name.to_string(),
            levels,
            rng: Mutex::new(Rng::new(seed)),
        }
    }
}

/// Rough inverse of the standard normal CDF (enough for a spread of service times).
fn probit(p: f64) -> f64 {
    let t = (-2.0 * (p.min(1.0 - p)).ln()).sqrt();
    let x = t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
            / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    if p < 0.5 { -x } else { x }
}

impl Target for JitterTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&self, _batch: usize) -> Result<(), TargetError> {
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let (pick, slow) = {
            let mut rng = self.rng.lock().unwrap();
            (
                rng.below(self.levels.len() as u64) as usize,
                rng.below(100) == 0,
            )
        };
        self.levels[pick].infer(batch)?;
        if slow {
            self.levels[pick].infer(batch)?;
            self.levels[pick].infer(batch)?;
        }
        Ok(())
    }
}
