//! Multi-model: several targets served at once on the same machine, each under its own
//! scenario. Each is run alone, then all together; the interference ratio of a percentile is
//! `together / alone` (above 1: co-location makes it slower).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::LoadGen;
use super::closed_loop::{self, ClosedLoop};
use super::server::ServerConfig;
use super::single_stream::SingleStreamConfig;
use crate::error::BenchError;
use crate::progress::NoProgress;
use crate::result::RunResult;
use crate::target::Target;
use crate::validity::{RunLimits, ScenarioKind};

/// One scenario run, for mixing several in a multi-model benchmark.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioConfig {
    /// Single-stream.
    SingleStream(SingleStreamConfig),
    /// Offline at one batch size.
    Offline {
        /// Worker threads.
        workers: usize,
        /// Items per query.
        batch: usize,
        /// Run limits.
        limits: RunLimits,
    },
    /// Server.
    Server(ServerConfig),
    /// Closed loop with `outstanding` queries in flight.
    Concurrency {
        /// Outstanding queries.
        outstanding: usize,
        /// Items per query.
        batch: usize,
        /// Run limits.
        limits: RunLimits,
    },
}

/// A target with the scenario it is served under.
#[derive(Clone)]
pub struct ModelLoad {
    /// Label for reports.
    pub label: String,
    /// The target.
    pub target: Arc<dyn Target>,
    /// Its scenario.
    pub scenario: ScenarioConfig,
}

impl std::fmt::Debug for ModelLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelLoad")
            .field("label", &self.label)
            .field("target", &self.target.name())
            .field("scenario", &self.scenario)
            .finish()
    }
}

/// `together / alone` for each statistic of one model (0 where the alone value is 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interference {
    /// The model's label.
    pub label: String,
    /// Median ratio.
    pub p50: f64,
    /// p90 ratio.
    pub p90: f64,
    /// p95 ratio.
    pub p95: f64,
    /// p99 ratio.
    pub p99: f64,
    /// p99.9 ratio.
    pub p999: f64,
    /// Mean ratio.
    pub mean: f64,
    /// Throughput ratio (items/s together / alone; below 1: co-location costs throughput).
    pub throughput: f64,
}

/// Outcome of [`LoadGen::multi_model`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiModelReport {
    /// Each model alone, in input order.
    pub alone: Vec<RunResult>,
    /// Each model while all ran at once, in input order.
    pub together: Vec<RunResult>,
    /// Interference ratios, in input order.
    pub interference: Vec<Interference>,
}

impl LoadGen {
    /// Runs one scenario.
    pub fn run_scenario(
        &self,
        target: &dyn Target,
        scenario: &ScenarioConfig,
    ) -> Result<RunResult, BenchError> {
        match scenario {
            ScenarioConfig::SingleStream(c) => self.single_stream(target, c),
            ScenarioConfig::Server(c) => self.server(target, c),
            ScenarioConfig::Offline {
                workers,
                batch,
                limits,
            } => {
                let spec = ClosedLoop {
                    kind: ScenarioKind::Offline,
                    workers: *workers,
                    batch: *batch,
                    limits,
                    seed: 1,
                };
                closed_loop::run(self, target, &spec)
            }
            ScenarioConfig::Concurrency {
                outstanding,
                batch,
                limits,
            } => {
                let spec = ClosedLoop {
                    kind: ScenarioKind::Concurrency,
                    workers: *outstanding,
                    batch: *batch,
                    limits,
                    seed: 1,
                };
                closed_loop::run(self, target, &spec)
            }
        }
    }

    /// Runs every load alone, then all at once, and reports interference. CPU utilization in
    /// the "together" results is the whole process's, shared by all loads.
    pub fn multi_model(&self, loads: &[ModelLoad]) -> Result<MultiModelReport, BenchError> {
        let mut alone = Vec::with_capacity(loads.len());
        for l in loads {
            let r = self.run_scenario(&*l.target, &l.scenario)?;
            alone.push(r.labeled(format!("{} (alone)", l.label)));
        }
        self.progress().note(&format!(
            "multi-model: running {} loads together",
            loads.len()
        ));
        let quiet = self.clone().with_progress(NoProgress);
        let together: Vec<Result<RunResult, BenchError>> = std::thread::scope(|s| {
            let handles: Vec<_> = loads
                .iter()
                .map(|l| {
                    let quiet = &quiet;
                    s.spawn(move || quiet.run_scenario(&*l.target, &l.scenario))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let together = together
            .into_iter()
            .zip(loads)
            .map(|(r, l)| r.map(|r| r.labeled(format!("{} (together)", l.label))))
            .collect::<Result<Vec<_>, _>>()?;
        let interference = loads
            .iter()
            .zip(alone.iter().zip(&together))
            .map(|(l, (a, t))| interference(&l.label, a, t))
            .collect();
        Ok(MultiModelReport {
            alone,
            together,
            interference,
        })
    }
}

/// `together / alone`, or 0 when `alone` is not positive (nothing to compare against).
fn ratio(together: f64, alone: f64) -> f64 {
    if alone > 0.0 { together / alone } else { 0.0 }
}

fn interference(label: &str, a: &RunResult, t: &RunResult) -> Interference {
    let (la, lt) = (&a.latency, &t.latency);
    Interference {
        label: label.to_string(),
        p50: ratio(lt.p50_us, la.p50_us),
        p90: ratio(lt.p90_us, la.p90_us),
        p95: ratio(lt.p95_us, la.p95_us),
        p99: ratio(lt.p99_us, la.p99_us),
        p999: ratio(lt.p999_us, la.p999_us),
        mean: ratio(lt.mean_us, la.mean_us),
        throughput: ratio(t.throughput.items_per_s, a.throughput.items_per_s),
    }
}
