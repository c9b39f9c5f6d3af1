//! Per-model statistics in Triton's statistics-extension shape (`/v2/models/{m}/stats`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A count and its total time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration64 {
    /// Events.
    pub count: u64,
    /// Total nanoseconds.
    pub ns: u64,
}

impl Duration64 {
    fn add(&mut self, count: u64, d: Duration) {
        self.count += count;
        self.ns += d.as_nanos() as u64;
    }
}

/// Request-level statistics (Triton's `inference_stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InferenceStats {
    /// Successful requests, end to end in the server.
    pub success: Duration64,
    /// Failed requests (rejected ones included).
    pub fail: Duration64,
    /// Time in the queue.
    pub queue: Duration64,
    /// Building the input tensors (batch concatenation included).
    pub compute_input: Duration64,
    /// Running the model.
    pub compute_infer: Duration64,
    /// Reading and splitting outputs.
    pub compute_output: Duration64,
    /// Response cache hits (always zero).
    pub cache_hit: Duration64,
    /// Response cache misses (always zero).
    pub cache_miss: Duration64,
}

/// Executions of one batch size (Triton's `batch_stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStats {
    /// Rows in the batch.
    pub batch_size: u64,
    /// Building inputs.
    pub compute_input: Duration64,
    /// Running the model.
    pub compute_infer: Duration64,
    /// Reading outputs.
    pub compute_output: Duration64,
}

/// One model's statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStats {
    /// Model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Last inference, milliseconds since the epoch.
    pub last_inference: u64,
    /// Inferences (rows) executed.
    pub inference_count: u64,
    /// Model executions (a batch of requests counts once).
    pub execution_count: u64,
    /// Request-level statistics.
    pub inference_stats: InferenceStats,
    /// Per batch size.
    pub batch_stats: Vec<BatchStats>,
}

/// The `/stats` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsBody {
    /// One entry per model.
    pub model_stats: Vec<ModelStats>,
}

/// Timing of one execution.
#[derive(Debug, Clone, Copy, Default)]
pub struct Execution {
    /// Requests in it.
    pub requests: u64,
    /// Rows in it.
    pub rows: u64,
    /// Building inputs.
    pub input: Duration,
    /// Running.
    pub infer: Duration,
    /// Outputs.
    pub output: Duration,
}

#[derive(Debug, Default)]
struct Inner {
    stats: InferenceStats,
    inference_count: u64,
    execution_count: u64,
    last_inference: u64,
    batches: BTreeMap<u64, BatchStats>,
}

/// Thread-safe statistics of one model.
#[derive(Debug, Default)]
pub struct StatsRecorder {
    inner: Mutex<Inner>,
}

impl StatsRecorder {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// A request finished (`ok`) or failed after `total` in the server.
    pub fn request(&self, ok: bool, total: Duration) {
        self.with(|s| {
            if ok {
                s.stats.success.add(1, total)
            } else {
                s.stats.fail.add(1, total)
            }
        });
    }

    /// A request waited `d` in the queue.
    pub fn queued(&self, d: Duration) {
        self.with(|s| s.stats.queue.add(1, d));
    }

    /// An execution ran.
    pub fn execution(&self, e: Execution) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.with(|s| {
            s.stats.compute_input.add(e.requests, e.input);
            s.stats.compute_infer.add(e.requests, e.infer);
            s.stats.compute_output.add(e.requests, e.output);
            s.inference_count += e.rows;
            s.execution_count += 1;
            s.last_inference = now;
            let b = s.batches.entry(e.rows).or_insert_with(|| BatchStats {
                batch_size: e.rows,
                ..BatchStats::default()
            });
            b.compute_input.add(1, e.input);
            b.compute_infer.add(1, e.infer);
            b.compute_output.add(1, e.output);
        });
    }

    /// A snapshot named `name`.
    pub fn snapshot(&self, name: &str) -> ModelStats {
        self.with(|s| ModelStats {
            name: name.to_string(),
            version: "1".to_string(),
            last_inference: s.last_inference,
            inference_count: s.inference_count,
            execution_count: s.execution_count,
            inference_stats: s.stats.clone(),
            batch_stats: s.batches.values().cloned().collect(),
        })
    }
}

/// Server-side means over a window: the difference of two snapshots of one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowBreakdown {
    /// Requests that succeeded in the window.
    pub requests: u64,
    /// Model executions in the window.
    pub executions: u64,
    /// Mean time in the server per successful request, microseconds.
    pub server_us: f64,
    /// Mean queue time per request, microseconds.
    pub queue_us: f64,
    /// Mean input, inference and output compute per request, microseconds.
    pub compute_us: f64,
}

impl WindowBreakdown {
    /// The window between `before` and `after`.
    pub fn between(before: &ModelStats, after: &ModelStats) -> Self {
        let (a, b) = (&after.inference_stats, &before.inference_stats);
        let mean = |x: Duration64, y: Duration64| {
            let n = x.count.saturating_sub(y.count);
            match n {
                0 => 0.0,
                n => x.ns.saturating_sub(y.ns) as f64 / n as f64 / 1e3,
            }
        };
        Self {
            requests: a.success.count.saturating_sub(b.success.count),
            executions: after.execution_count.saturating_sub(before.execution_count),
            server_us: mean(a.success, b.success),
            queue_us: mean(a.queue, b.queue),
            compute_us: mean(a.compute_input, b.compute_input)
                + mean(a.compute_infer, b.compute_infer)
                + mean(a.compute_output, b.compute_output),
        }
    }
}

impl std::fmt::Display for WindowBreakdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server side: {} requests in {} executions; mean {:.1} us in the server \
             ({:.1} us queued, {:.1} us compute)",
            self.requests, self.executions, self.server_us, self.queue_us, self.compute_us
        )
    }
}
