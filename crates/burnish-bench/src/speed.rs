//! How fast is the harness itself? Measured with [`NoopTarget`], so that the CLI can print it
//! next to real results and the criterion bench can track it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::scenario::{LoadGen, ServerConfig, SingleStreamConfig};
use crate::target::NoopTarget;
use crate::validity::RunLimits;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HarnessSpeedConfig {
    /// Duration of the closed-loop measurement.
    pub closed_loop: Duration,
    /// Rate of the open-loop measurement.
    pub open_loop_qps: f64,
    /// Duration of the open-loop measurement.
    pub open_loop: Duration,
}

impl Default for HarnessSpeedConfig {
    fn default() -> Self {
        Self {
            closed_loop: Duration::from_secs(1),
            open_loop_qps: 10_000.0,
            open_loop: Duration::from_secs(2),
        }
    }
}

/// The harness's own speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HarnessSpeed {
    /// Closed-loop requests per second on one worker with a no-op target.
    pub closed_loop_rps: f64,
    /// Mean harness overhead per closed-loop request, ns.
    pub closed_loop_overhead_ns: f64,
    /// Scheduled open-loop rate.
    pub open_loop_qps: f64,
    /// Completed open-loop rate.
    pub open_loop_completed_qps: f64,
    /// Median scheduling lateness (actual minus scheduled issue time), µs.
    pub lateness_p50_us: f64,
    /// 99th percentile scheduling lateness, µs.
    pub lateness_p99_us: f64,
    /// Maximum scheduling lateness, µs.
    pub lateness_max_us: f64,
}

/// Measures closed-loop throughput and open-loop scheduling lateness with a no-op target.
pub fn harness_speed(cfg: &HarnessSpeedConfig) -> Result<HarnessSpeed, BenchError> {
    let lg = LoadGen::new().with_sample_cap(1000);
    let closed = lg.single_stream(
        &NoopTarget,
        &SingleStreamConfig::new(RunLimits::new(cfg.closed_loop, 1).with_warmup(1000)),
    )?;
    let open = lg.server(
        &NoopTarget,
        &ServerConfig::new(
            cfg.open_loop_qps,
            RunLimits::new(cfg.open_loop, 1).with_warmup(100),
        ),
    )?;
    let server = open
        .server
        .unwrap_or_else(|| unreachable!("server runs have server stats"));
    let rps = closed.throughput.queries_per_s;
    Ok(HarnessSpeed {
        closed_loop_rps: rps,
        closed_loop_overhead_ns: if rps > 0.0 { 1e9 / rps } else { 0.0 },
        open_loop_qps: server.scheduled_qps,
        open_loop_completed_qps: server.completed_qps,
        lateness_p50_us: server.lateness.p50_us,
        lateness_p99_us: server.lateness.p99_us,
        lateness_max_us: server.lateness.max_us,
    })
}
