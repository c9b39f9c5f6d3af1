//! The record of one run, as stored in result files.

use serde::{Deserialize, Serialize};

use crate::resources::ResourceUsage;
use crate::stats::{CdfPoint, LatencyStats};
use crate::validity::{ScenarioKind, Slo, Validity, ValidityStatus};

/// The settings a run used, recorded so that results are self-describing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Items per query.
    pub batch: usize,
    /// Concurrent workers: sessions (server), outstanding queries (concurrency), threads
    /// (offline); 1 for single-stream.
    pub workers: usize,
    /// Intra-op threads of the target, as passed by the caller (opaque to the harness).
    pub intra_op_threads: Option<u32>,
    /// Server: the scheduled arrival rate.
    pub target_qps: Option<f64>,
    /// Seed of the arrival schedule (server) and of sample retention.
    pub seed: u64,
    /// Minimum duration, seconds.
    pub min_duration_s: f64,
    /// Minimum query count.
    pub min_queries: u64,
    /// Hard stop, seconds.
    pub max_duration_s: Option<f64>,
    /// Untimed warm-up queries.
    pub warmup_queries: u64,
    /// Server: latency objective.
    pub slo: Option<Slo>,
}

/// Completed work per second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Queries per second.
    pub queries_per_s: f64,
    /// Items (queries x batch) per second.
    pub items_per_s: f64,
}

/// Open-loop specifics of a server run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerStats {
    /// Queries scheduled.
    pub scheduled_queries: u64,
    /// Scheduled rate: `(n - 1) / scheduled time of the last query` (LoadGen's definition).
    pub scheduled_qps: f64,
    /// Completed rate: completed queries / time of the last completion.
    pub completed_qps: f64,
    /// Queries abandoned after the drain timeout (counted in latency as lower bounds).
    pub dropped_queries: u64,
    /// Scheduling lateness: actual issue minus scheduled time, for the queries a free session
    /// was waiting for (queued queries are not late, they wait; see `wait`).
    pub lateness: LatencyStats,
    /// Queueing delay: issue minus scheduled time, for all queries.
    pub wait: LatencyStats,
}

/// Cold-start facts measured by the caller (the harness never loads models).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColdStart {
    /// Time to load and prepare the model, ms.
    pub model_load_ms: Option<f64>,
    /// Latency of the very first inference, ms.
    pub first_inference_ms: Option<f64>,
    /// Size of the model file, bytes.
    pub model_file_bytes: Option<u64>,
    /// Bytes of parameters (weights) in memory.
    pub parameter_bytes: Option<u64>,
}

/// One query of a server run, times in µs from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// Index in the schedule.
    pub index: u64,
    /// Scheduled issue time.
    pub scheduled_us: f64,
    /// Actual issue time (`None` when dropped).
    pub started_us: Option<f64>,
    /// Completion time (`None` when dropped).
    pub completed_us: Option<f64>,
}

/// Everything measured in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Caller-chosen label (defaults to the target name and scenario).
    pub label: String,
    /// The target's name.
    pub target: String,
    /// The scenario.
    pub scenario: ScenarioKind,
    /// The settings used.
    pub settings: RunSettings,
    /// Measured span, seconds: start to the last completion.
    pub duration_s: f64,
    /// Completed queries.
    pub queries: u64,
    /// Completed items.
    pub items: u64,
    /// Completed work per second.
    pub throughput: Throughput,
    /// Latency distribution (server: from the scheduled issue time).
    pub latency: LatencyStats,
    /// Compact empirical CDF of latency.
    pub cdf: Vec<CdfPoint>,
    /// A uniform random sample of the raw latencies, µs, capped (see `samples_total`).
    pub samples_us: Vec<f64>,
    /// How many latencies the sample was drawn from.
    pub samples_total: u64,
    /// Server specifics.
    pub server: Option<ServerStats>,
    /// CPU and memory.
    pub resources: ResourceUsage,
    /// Caller-provided cold-start facts.
    pub cold_start: Option<ColdStart>,
    /// VALID / QUICK / INVALID with reasons and warnings.
    pub validity: Validity,
    /// Per-query log (server runs that asked for one), capped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_log: Vec<QueryRecord>,
}

impl RunResult {
    /// Whether the run is VALID (a QUICK run is neither valid nor invalid).
    pub fn is_valid(&self) -> bool {
        self.validity.status == ValidityStatus::Valid
    }

    /// Whether the run is INVALID: a requirement failed for a reason other than a quick run's
    /// length.
    pub fn is_invalid(&self) -> bool {
        self.validity.status == ValidityStatus::Invalid
    }

    /// Sets the label.
    pub fn labeled(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Attaches cold-start facts.
    pub fn with_cold_start(mut self, cold: ColdStart) -> Self {
        self.cold_start = Some(cold);
        self
    }
}
