//! Single-stream: one query of batch 1 at a time, the next issued when the previous completes.

use super::LoadGen;
use super::closed_loop::{self, ClosedLoop};
use crate::error::BenchError;
use crate::result::RunResult;
use crate::target::Target;
use crate::validity::{Profile, RunLimits, ScenarioKind};

/// Settings of a single-stream run.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleStreamConfig {
    /// Run limits.
    pub limits: RunLimits,
    /// Seed for sample retention.
    pub seed: u64,
}

impl SingleStreamConfig {
    /// Single-stream with the given limits.
    pub fn new(limits: RunLimits) -> Self {
        Self { limits, seed: 1 }
    }

    /// Single-stream with a profile's limits.
    pub fn profile(profile: Profile) -> Self {
        Self::new(profile.limits(ScenarioKind::SingleStream))
    }
}

impl LoadGen {
    /// Runs single-stream: latency of one query at a time (LoadGen reports its p90).
    pub fn single_stream(
        &self,
        target: &dyn Target,
        cfg: &SingleStreamConfig,
    ) -> Result<RunResult, BenchError> {
        closed_loop::run(
            self,
            target,
            &ClosedLoop {
                kind: ScenarioKind::SingleStream,
                workers: 1,
                batch: 1,
                limits: &cfg.limits,
                seed: cfg.seed,
            },
        )
    }
}
