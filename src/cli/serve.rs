//! Flags of `burnish serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::measure::parse_duration;

/// `burnish serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// ONNX models to serve, each named after its file stem.
    pub models: Vec<PathBuf>,
    /// A model under another name (repeatable).
    #[arg(long = "name", value_name = "NAME=FILE", value_parser = parse_named)]
    pub named: Vec<(String, PathBuf)>,
    /// A Triton-style model repository: every `NAME/VERSION/model.onnx` (highest version).
    #[arg(long, value_name = "DIR")]
    pub model_repository: Option<PathBuf>,
    /// REST address; port 0 picks a free port (printed as `http ADDR`).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub http: SocketAddr,
    /// Also serve the v2 gRPC API (Triton's GRPCInferenceService) here, e.g.
    /// `127.0.0.1:8001`; port 0 picks a free port (printed as `grpc ADDR`).
    #[arg(long, value_name = "ADDR")]
    pub grpc: Option<SocketAddr>,
    /// Also serve Prometheus `/metrics` on this address (it is always on the REST address);
    /// port 0 picks a free port (printed as `metrics ADDR`).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Threads running each model concurrently (Triton's instance count).
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Intra-op threads of each model's session (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Most rows in a dynamic batch (1: no batching). Only models whose inputs and outputs
    /// all have a symbolic leading dim are batched.
    #[arg(long, default_value_t = 1)]
    pub max_batch: usize,
    /// How long a request waits for others to batch with, e.g. `500us`.
    #[arg(long, value_parser = parse_duration)]
    pub max_queue_delay: Option<std::time::Duration>,
    /// Requests each model's queue holds; when full, new ones get 429 with Retry-After.
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Reject requests still queued after this long (429), e.g. `100ms`.
    #[arg(long, value_parser = parse_duration)]
    pub queue_timeout: Option<std::time::Duration>,
    /// Most elements in one input tensor.
    #[arg(long, default_value_t = 1 << 26)]
    pub max_elements: usize,
    /// Largest request body in bytes (413 above).
    #[arg(long, default_value_t = 64 << 20)]
    pub max_body: usize,
}

fn parse_named(s: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = s
        .split_once('=')
        .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        .ok_or_else(|| format!("`{s}` is not NAME=FILE"))?;
    Ok((name.to_string(), PathBuf::from(file)))
}
