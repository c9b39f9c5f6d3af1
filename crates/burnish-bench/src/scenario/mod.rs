//! The load generator and its scenarios.
//!
//! [`LoadGen`] holds what is common to every run (progress reporting, the caller's intra-op
//! thread count, how many raw samples to keep); each scenario is a method taking a target and a
//! scenario config, and returns [`RunResult`]s.

pub(crate) mod closed_loop;
mod concurrency;
mod max_qps;
mod multi_model;
mod offline;
mod server;
mod single_stream;

use std::sync::Arc;
use std::time::Duration;

pub use concurrency::ConcurrencyConfig;
pub use max_qps::{
    MIN_SLOS_PER_RUN, MaxQpsConfig, MaxQpsReport, QpsTrial, VALIDITY_RETRIES, VALIDITY_STEP_DOWN,
    capacity_probe_limits,
};
pub use multi_model::{Interference, ModelLoad, MultiModelReport, ScenarioConfig};
pub use offline::OfflineConfig;
pub use server::ServerConfig;
pub use single_stream::SingleStreamConfig;

use crate::histogram::LatencyRecorder;
use crate::progress::{NoProgress, Progress};
use crate::resources::{ResourceUsage, logical_cores};
use crate::result::{QueryRecord, RunResult, RunSettings, ServerStats, Throughput};
use crate::stats::{LatencyStats, compact_cdf};
use crate::target::Target;
use crate::validity::{RunFacts, RunLimits, ScenarioKind, Slo, assess};

/// Default number of raw latency samples kept per run.
pub const DEFAULT_SAMPLE_CAP: usize = 10_000;

/// The load generator: runs scenarios against targets.
#[derive(Clone)]
pub struct LoadGen {
    progress: Arc<dyn Progress>,
    intra_op_threads: Option<u32>,
    sample_cap: usize,
}

impl std::fmt::Debug for LoadGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadGen")
            .field("intra_op_threads", &self.intra_op_threads)
            .field("sample_cap", &self.sample_cap)
            .finish_non_exhaustive()
    }
}

impl Default for LoadGen {
    fn default() -> Self {
        Self::new()
    }
}

impl LoadGen {
    /// A silent load generator keeping [`DEFAULT_SAMPLE_CAP`] samples per run.
    pub fn new() -> Self {
        Self {
            progress: Arc::new(NoProgress),
            intra_op_threads: None,
            sample_cap: DEFAULT_SAMPLE_CAP,
        }
    }

    /// Reports progress to `progress`.
    pub fn with_progress(mut self, progress: impl Progress + 'static) -> Self {
        self.progress = Arc::new(progress);
        self
    }

    /// Records the caller's intra-op thread setting in every result (the harness does not use it).
    pub fn with_intra_op_threads(mut self, threads: u32) -> Self {
        self.intra_op_threads = Some(threads);
        self
    }

    /// Keeps at most `cap` raw latency samples per run.
    pub fn with_sample_cap(mut self, cap: usize) -> Self {
        self.sample_cap = cap;
        self
    }

    /// How many raw latency samples each run keeps.
    pub fn sample_cap(&self) -> usize {
        self.sample_cap
    }

    /// The progress reporter.
    pub fn progress(&self) -> &dyn Progress {
        &*self.progress
    }

    pub(crate) fn settings(
        &self,
        batch: usize,
        workers: usize,
        limits: &RunLimits,
        seed: u64,
    ) -> RunSettings {
        RunSettings {
            batch,
            workers,
            intra_op_threads: self.intra_op_threads,
            target_qps: None,
            seed,
            min_duration_s: limits.min_duration.as_secs_f64(),
            min_queries: limits.min_queries,
            max_duration_s: limits.max_duration.map(|d| d.as_secs_f64()),
            warmup_queries: limits.warmup_queries,
            slo: None,
        }
    }
}

/// Raw measurements of a run, before statistics and validity.
pub(crate) struct Measured {
    pub latencies: LatencyRecorder,
    /// Completed queries.
    pub completed: u64,
    /// Queries counted for validity (server: issued, including dropped).
    pub counted: u64,
    /// Start to last completion.
    pub span: Duration,
    /// The duration validity is judged on (server: scheduled time of the last query).
    pub judged: Duration,
    pub truncated: bool,
    pub dropped: u64,
    pub server: Option<ServerStats>,
    pub query_log: Vec<QueryRecord>,
}

/// Turns measurements into a [`RunResult`].
pub(crate) fn assemble(
    target: &dyn Target,
    kind: ScenarioKind,
    settings: RunSettings,
    limits: &RunLimits,
    slo: Option<Slo>,
    m: Measured,
    resources: ResourceUsage,
) -> RunResult {
    let items = m.completed * settings.batch as u64;
    let validity = assess(&RunFacts {
        kind,
        limits,
        duration: m.judged,
        queries: m.counted,
        latencies: &m.latencies,
        slo,
        dropped: m.dropped,
        truncated: m.truncated,
        load_at_start: resources.load_avg_1m_at_start,
        cores: logical_cores(),
    });
    let span = m.span.as_secs_f64();
    let per_s = |x: u64| if span > 0.0 { x as f64 / span } else { 0.0 };
    RunResult {
        label: format!("{} {}", target.name(), kind.as_str()),
        target: target.name().to_string(),
        scenario: kind,
        settings,
        duration_s: span,
        queries: m.completed,
        items,
        throughput: Throughput {
            queries_per_s: per_s(m.completed),
            items_per_s: per_s(items),
        },
        latency: LatencyStats::from_recorder(&m.latencies),
        cdf: compact_cdf(&m.latencies),
        samples_us: m
            .latencies
            .samples()
            .iter()
            .map(|&ns| ns as f64 / 1e3)
            .collect(),
        samples_total: m.latencies.len(),
        server: m.server,
        resources,
        cold_start: None,
        validity,
        query_log: m.query_log,
    }
}

/// One-line summary for progress reporters.
pub(crate) fn one_line(r: &RunResult) -> String {
    format!(
        "{} queries, {:.1} items/s, p50 {:.1} µs, p99 {:.1} µs, {:?}",
        r.queries, r.throughput.items_per_s, r.latency.p50_us, r.latency.p99_us, r.validity.status
    )
}

pub(crate) fn check_positive(field: &'static str, v: usize) -> Result<(), crate::BenchError> {
    if v == 0 {
        Err(crate::BenchError::config(field, v, "must be at least 1"))
    } else {
        Ok(())
    }
}

/// Mixes a run seed with a worker index into an independent stream seed.
pub(crate) fn stream_seed(seed: u64, worker: usize) -> u64 {
    seed ^ (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
