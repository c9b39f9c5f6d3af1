//! Find the highest server rate whose tail latency meets an SLO.
//!
//! Search: start from `start_qps` (or half the capacity estimated from a short closed-loop
//! probe: `sessions / mean service time`), double while trials pass and halve while they fail
//! until the answer is bracketed, then bisect until the bracket is narrower than `tolerance`
//! (relative). A trial passes when its SLO percentile is within the SLO and nothing was dropped.
//! Every run lasts at least [`MIN_SLOS_PER_RUN`] SLO latencies, or an overloaded rate would
//! pass because its backlog had no time to grow past the SLO.
//! Finally a validity run at the highest passing rate, with the full server limits, decides
//! whether the answer is VALID. The short trials can overestimate what the machine sustains
//! for longer: a validity run that misses the SLO (or drops queries) is recorded as a failed
//! trial and repeated at [`VALIDITY_STEP_DOWN`] times the rate, at most [`VALIDITY_RETRIES`]
//! times; the answer is the rate of the last validity run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::LoadGen;
use super::closed_loop::{self, ClosedLoop};
use super::server::ServerConfig;
use crate::error::BenchError;
use crate::progress::NoProgress;
use crate::result::RunResult;
use crate::target::Target;
use crate::validity::{RunLimits, ScenarioKind, Slo};

/// Times a validity run that misses the SLO is repeated at a lower rate.
pub const VALIDITY_RETRIES: usize = 3;
/// Factor applied to the rate after a validity run misses the SLO (the short search trials
/// overestimated what the machine sustains).
pub const VALIDITY_STEP_DOWN: f64 = 0.8;

/// Shortest run of the search, in SLO latencies: a shorter run cannot show an overload, as
/// its backlog never grows past the SLO before the run ends.
pub const MIN_SLOS_PER_RUN: u32 = 4;

/// The limits of the closed-loop probe that estimates capacity before a search without a
/// start rate.
pub fn capacity_probe_limits() -> RunLimits {
    RunLimits::new(Duration::from_millis(200), 10).with_warmup(2)
}

/// `limits` with a minimum duration of at least [`MIN_SLOS_PER_RUN`] SLO latencies.
fn long_enough(mut limits: RunLimits, slo: &Slo) -> RunLimits {
    let floor = Duration::from_secs_f64(slo.latency_us / 1e6) * MIN_SLOS_PER_RUN;
    limits.min_duration = limits.min_duration.max(floor);
    if let Some(max) = limits.max_duration.as_mut() {
        *max = (*max).max(floor * 2);
    }
    limits
}

/// Settings of a max-QPS search.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxQpsConfig {
    /// Template for every run: sessions, batch, seed, and the limits of the final validity run.
    /// Its `qps` and `slo` are replaced.
    pub server: ServerConfig,
    /// The objective.
    pub slo: Slo,
    /// Limits of each search trial (short).
    pub trial_limits: RunLimits,
    /// First rate tried; `None`: half the capacity estimated by a short closed-loop probe.
    pub start_qps: Option<f64>,
    /// Stop bisecting when `(hi - lo) / lo` is below this.
    pub tolerance: f64,
    /// At most this many trials.
    pub max_trials: usize,
}

impl MaxQpsConfig {
    /// A search for `slo`, using `server` as the template, with 1 s trials and 5% tolerance.
    pub fn new(server: ServerConfig, slo: Slo) -> Self {
        Self {
            server,
            slo,
            trial_limits: RunLimits::new(Duration::from_secs(1), 64).with_warmup(4),
            start_qps: None,
            tolerance: 0.05,
            max_trials: 16,
        }
    }
}

/// One search trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QpsTrial {
    /// Scheduled rate.
    pub qps: f64,
    /// Latency at the SLO percentile, µs.
    pub observed_us: f64,
    /// Completed rate.
    pub completed_qps: f64,
    /// Dropped queries.
    pub dropped: u64,
    /// Whether the trial met the SLO.
    pub passed: bool,
}

/// Outcome of [`LoadGen::find_max_qps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxQpsReport {
    /// The target's name.
    pub target: String,
    /// The objective.
    pub slo: Slo,
    /// The highest passing rate found.
    pub max_qps: f64,
    /// Every trial, in order.
    pub trials: Vec<QpsTrial>,
    /// The final run at `max_qps` with full limits; its validity is the answer's validity.
    pub validity_run: RunResult,
}

impl LoadGen {
    /// Searches for the highest QPS whose SLO percentile meets `cfg.slo`, then validates it.
    pub fn find_max_qps(
        &self,
        target: &dyn Target,
        cfg: &MaxQpsConfig,
    ) -> Result<MaxQpsReport, BenchError> {
        if cfg.tolerance.is_nan() || cfg.tolerance <= 0.0 {
            return Err(BenchError::config(
                "tolerance",
                cfg.tolerance,
                "must be positive",
            ));
        }
        let start = match cfg.start_qps {
            Some(q) => q,
            None => 0.5 * self.estimate_capacity(target, &cfg.server)?,
        };
        let quiet = self.clone().with_progress(NoProgress);
        let mut trials: Vec<QpsTrial> = Vec::new();
        let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
        let mut qps = start;
        while trials.len() < cfg.max_trials {
            let trial = quiet.trial(target, cfg, qps)?;
            self.progress().note(&format!(
                "max-qps trial {:.1} qps: p{} {:.0} µs {}",
                qps,
                cfg.slo.percentile * 100.0,
                trial.observed_us,
                if trial.passed { "pass" } else { "fail" }
            ));
            let passed = trial.passed;
            trials.push(trial);
            if passed {
                lo = Some(lo.map_or(qps, |l: f64| l.max(qps)));
            } else {
                hi = Some(hi.map_or(qps, |h: f64| h.min(qps)));
            }
            qps = match (lo, hi) {
                (Some(l), None) => l * 2.0,
                (None, Some(h)) if h < 1e-3 => break,
                (None, Some(h)) => h / 2.0,
                (Some(l), Some(h)) if (h - l) / l <= cfg.tolerance => break,
                (Some(l), Some(h)) => (l + h) / 2.0,
                (None, None) => unreachable!("every trial sets a bound"),
            };
        }
        let Some(max_qps) = lo else {
            let last = trials.last().map_or(0.0, |t| t.observed_us);
            return Err(BenchError::NoFeasibleRate {
                qps: hi.unwrap_or(start),
                percentile: cfg.slo.percentile * 100.0,
                observed_us: last,
                slo_us: cfg.slo.latency_us,
            });
        };
        let mut max_qps = max_qps;
        let mut validity_cfg = cfg.server.clone();
        validity_cfg.slo = Some(cfg.slo);
        validity_cfg.limits = long_enough(validity_cfg.limits, &cfg.slo);
        let mut retries = 0;
        let validity_run = loop {
            validity_cfg.qps = max_qps;
            let run = self.server(target, &validity_cfg)?;
            let observed_us = run.latency.percentile_us(cfg.slo.percentile);
            let s = run.server.as_ref();
            let dropped = s.map_or(0, |s| s.dropped_queries);
            if (dropped == 0 && observed_us <= cfg.slo.latency_us) || retries == VALIDITY_RETRIES {
                break run;
            }
            self.progress().note(&format!(
                "max-qps validity run at {max_qps:.1} qps missed the SLO (p{} {observed_us:.0} µs): \
                 stepping down {:.0}%",
                cfg.slo.percentile * 100.0,
                (1.0 - VALIDITY_STEP_DOWN) * 100.0
            ));
            trials.push(QpsTrial {
                qps: max_qps,
                observed_us,
                completed_qps: s.map_or(0.0, |s| s.completed_qps),
                dropped,
                passed: false,
            });
            max_qps *= VALIDITY_STEP_DOWN;
            retries += 1;
        };
        Ok(MaxQpsReport {
            target: target.name().to_string(),
            slo: cfg.slo,
            max_qps,
            trials,
            validity_run,
        })
    }

    fn trial(
        &self,
        target: &dyn Target,
        cfg: &MaxQpsConfig,
        qps: f64,
    ) -> Result<QpsTrial, BenchError> {
        let mut server = cfg.server.clone();
        server.qps = qps;
        server.limits = long_enough(cfg.trial_limits, &cfg.slo);
        server.slo = Some(cfg.slo);
        server.query_log_cap = 0;
        let slo = Duration::from_secs_f64(cfg.slo.latency_us / 1e6);
        server.drain_timeout = (slo * 10)
            .max(Duration::from_millis(100))
            .min(server.drain_timeout);
        let r = self.server(target, &server)?;
        let observed_us = r.latency.percentile_us(cfg.slo.percentile);
        let s = r.server.as_ref();
        let dropped = s.map_or(0, |s| s.dropped_queries);
        Ok(QpsTrial {
            qps,
            observed_us,
            completed_qps: s.map_or(0.0, |s| s.completed_qps),
            dropped,
            passed: dropped == 0 && observed_us <= cfg.slo.latency_us,
        })
    }

    /// Capacity estimate: sessions / mean service time from a short closed-loop probe.
    fn estimate_capacity(
        &self,
        target: &dyn Target,
        server: &ServerConfig,
    ) -> Result<f64, BenchError> {
        let limits = capacity_probe_limits();
        let quiet = self.clone().with_progress(NoProgress);
        let probe = closed_loop::run(
            &quiet,
            target,
            &ClosedLoop {
                kind: ScenarioKind::SingleStream,
                workers: 1,
                batch: server.batch,
                limits: &limits,
                seed: server.seed,
            },
        )?;
        let mean_s = (probe.latency.mean_us / 1e6).max(1e-7);
        Ok(server.sessions as f64 / mean_s)
    }
}
