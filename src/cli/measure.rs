//! Flags of the measuring commands: `bench` and `compare`, and the load settings they share.

use std::path::PathBuf;

use clap::Args;

use super::DimArgs;

/// Scenarios of `burnish bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// One query at a time, batch 1.
    SingleStream,
    /// Maximum throughput over a batch sweep.
    Offline,
    /// Open-loop Poisson arrivals at `--qps` (or the max-QPS search).
    Server,
    /// Closed loop with N outstanding queries.
    Concurrency,
}

/// How `bench --url` sends tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TensorFormat {
    /// The binary tensor data extension (perf_analyzer's default).
    Binary,
    /// JSON `data` arrays.
    Json,
}

/// Settings shared by `bench` and `compare`.
#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// Intra-op threads per session (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// LoadGen-grade durations (minutes) instead of the quick profile.
    #[arg(long)]
    pub full: bool,
    /// Symbolic dims other than the batch (e.g. `--dim seq=128`).
    #[command(flatten)]
    pub dims: DimArgs,
    /// Real input data (NPZ keyed by input name; one sample or a batch): sets the shapes and
    /// is what every query feeds (batches cycle through its samples).
    #[arg(long, value_name = "FILE.npz")]
    pub inputs: Option<PathBuf>,
    /// Write the results JSON here (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print the results JSON to stdout instead of the summary table.
    #[arg(long)]
    pub json: bool,
}

/// `burnish bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// One model, or several to serve at once (multi-model interference).
    #[arg(required_unless_present = "url")]
    pub models: Vec<PathBuf>,
    /// Load-test a model on an Open Inference Protocol v2 server instead, e.g.
    /// `http://127.0.0.1:8000` (needs `--model`).
    #[arg(long, requires = "model", conflicts_with = "models")]
    pub url: Option<String>,
    /// The model's name on the `--url` server.
    #[arg(long, requires = "url")]
    pub model: Option<String>,
    /// How `--url` queries carry tensors.
    #[arg(long, value_enum, default_value = "binary")]
    pub tensor_format: TensorFormat,
    /// Scenarios to run (repeatable; default single-stream).
    #[arg(long, value_enum)]
    pub scenario: Vec<Scenario>,
    /// Batch sizes for offline.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub batch: Vec<usize>,
    /// Offered rate for server.
    #[arg(long, default_value_t = 100.0)]
    pub qps: f64,
    /// Search the highest QPS whose p99 meets `--slo-p99`.
    #[arg(long)]
    pub find_max_qps: bool,
    /// Latency SLO for server runs, e.g. `10ms`, `500us`.
    #[arg(long, value_parser = parse_duration, default_value = "10ms")]
    pub slo_p99: std::time::Duration,
    /// Outstanding queries for the concurrency sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pub concurrency: Vec<usize>,
    /// Concurrent sessions (workers) for offline and server.
    #[arg(long, default_value_t = 1)]
    pub sessions: usize,
    /// Shared settings.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// `burnish compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline model, then candidate; with `--baseline`, only the candidate.
    #[arg(required = true, num_args = 1..=2)]
    pub models: Vec<PathBuf>,
    /// A saved results JSON to gate against instead of a baseline model.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Exit 1 when the candidate is slower than this percentage beyond noise, e.g. `5%`.
    #[arg(long, value_parser = parse_percent)]
    pub fail_on_regression: Option<f64>,
    /// Interleaved rounds.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Shared settings.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Parses `250ms`, `1.5s`, `800us`, `3m`.
pub(super) fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| s.split_at(i))
        .ok_or_else(|| format!("`{s}` needs a unit (us, ms, s, m)"))?;
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration"))?;
    let secs = match unit {
        "us" | "µs" => v * 1e-6,
        "ms" => v * 1e-3,
        "s" => v,
        "m" | "min" => v * 60.0,
        other => return Err(format!("unknown unit `{other}` (us, ms, s, m)")),
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("`{s}` must be positive"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

fn parse_percent(s: &str) -> Result<f64, String> {
    s.trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("`{s}` is not a percentage like `5%`"))
}
