//! Concurrency sweep: closed loop with N outstanding queries, for each N in a list.

use super::closed_loop::{self, ClosedLoop};
use super::{LoadGen, check_positive};
use crate::error::BenchError;
use crate::result::RunResult;
use crate::target::Target;
use crate::validity::{Profile, RunLimits, ScenarioKind};

/// Settings of a concurrency sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcurrencyConfig {
    /// Outstanding-query counts, one run each.
    pub levels: Vec<usize>,
    /// Items per query.
    pub batch: usize,
    /// Limits of each run.
    pub limits: RunLimits,
    /// Seed for sample retention.
    pub seed: u64,
}

impl ConcurrencyConfig {
    /// A sweep over `levels` at batch 1.
    pub fn new(levels: Vec<usize>, limits: RunLimits) -> Self {
        Self {
            levels,
            batch: 1,
            limits,
            seed: 1,
        }
    }

    /// A sweep with a profile's limits.
    pub fn profile(profile: Profile, levels: Vec<usize>) -> Self {
        Self::new(levels, profile.limits(ScenarioKind::Concurrency))
    }
}

impl LoadGen {
    /// Runs the closed loop at each concurrency level.
    pub fn concurrency_sweep(
        &self,
        target: &dyn Target,
        cfg: &ConcurrencyConfig,
    ) -> Result<Vec<RunResult>, BenchError> {
        check_positive("levels.len()", cfg.levels.len())?;
        cfg.levels
            .iter()
            .map(|&n| {
                let r = closed_loop::run(
                    self,
                    target,
                    &ClosedLoop {
                        kind: ScenarioKind::Concurrency,
                        workers: n,
                        batch: cfg.batch,
                        limits: &cfg.limits,
                        seed: cfg.seed,
                    },
                )?;
                Ok(r.labeled(format!("{} concurrency {n}", target.name())))
            })
            .collect()
    }
}
