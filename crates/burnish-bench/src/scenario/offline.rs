//! Offline: maximum throughput with a fixed number of worker threads, swept over batch sizes.

use super::closed_loop::{self, ClosedLoop};
use super::{LoadGen, check_positive};
use crate::error::BenchError;
use crate::result::RunResult;
use crate::target::Target;
use crate::validity::{Profile, RunLimits, ScenarioKind};

/// Settings of an offline batch sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineConfig {
    /// Worker threads issuing queries back to back.
    pub workers: usize,
    /// Batch sizes, one run each.
    pub batches: Vec<usize>,
    /// Limits of each run.
    pub limits: RunLimits,
    /// Seed for sample retention.
    pub seed: u64,
}

impl OfflineConfig {
    /// An offline sweep over `batches` with `workers` threads.
    pub fn new(workers: usize, batches: Vec<usize>, limits: RunLimits) -> Self {
        Self {
            workers,
            batches,
            limits,
            seed: 1,
        }
    }

    /// An offline sweep with a profile's limits.
    pub fn profile(profile: Profile, workers: usize, batches: Vec<usize>) -> Self {
        Self::new(workers, batches, profile.limits(ScenarioKind::Offline))
    }
}

impl LoadGen {
    /// Runs offline for each batch size; each result's `throughput.items_per_s` is the headline.
    pub fn offline(
        &self,
        target: &dyn Target,
        cfg: &OfflineConfig,
    ) -> Result<Vec<RunResult>, BenchError> {
        check_positive("batches.len()", cfg.batches.len())?;
        cfg.batches
            .iter()
            .map(|&batch| {
                let r = closed_loop::run(
                    self,
                    target,
                    &ClosedLoop {
                        kind: ScenarioKind::Offline,
                        workers: cfg.workers,
                        batch,
                        limits: &cfg.limits,
                        seed: cfg.seed,
                    },
                )?;
                let label = format!("{} offline b{batch} w{}", target.name(), cfg.workers);
                Ok(r.labeled(label))
            })
            .collect()
    }
}
