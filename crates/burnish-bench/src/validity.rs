//! Run validity in the manner of MLPerf LoadGen: minimum duration and query count, the server
//! latency constraint, early stopping, and warnings about noisy measurements.
//!
//! # Profiles
//!
//! | profile | scenario | min duration | min queries | max duration | warm-up |
//! |---|---|---|---|---|---|
//! | `Quick` | single-stream, concurrency | 2 s | 64 | 60 s | 8 |
//! | `Quick` | offline | 2 s | 64 | 60 s | 8 |
//! | `Quick` | server | 3 s | 512 | 60 s | 8 |
//! | `Full` | single-stream, concurrency | 600 s | 1024 | none | 64 |
//! | `Full` | offline | 600 s | 24576 | none | 64 |
//! | `Full` | server | 600 s | 24576 | none | 64 |
//!
//! `Full` follows LoadGen's 600 s minimum for every scenario, its 1024-query minimum for
//! single-stream and 24576 (LoadGen's offline sample count) for server and offline queries;
//! LoadGen's own server minimum (270336) is left to early stopping, which decides from the
//! observed tail whether the query count suffices. `Quick` is sized for a few seconds per run on
//! a laptop: good for iterating, not for publishing. Its query minimums are the smallest that let
//! early stopping succeed: 64 queries for a p90 estimate, and 459 queries (all under the SLO) to
//! establish a p99 SLO with 99% confidence.
//!
//! # Quick runs
//!
//! Limits marked [`RunLimits::as_quick`] (every `Quick` preset) judge a run by what a quick
//! look can promise: a shortfall that only a longer run would fix (the minimum duration or
//! query count cut by `max_duration`, too few queries for the early-stopping estimate or to
//! establish the SLO) makes it QUICK, with what `--full` would add, not INVALID. Real failures
//! (the SLO exceeded, dropped queries) still make it INVALID.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::early_stopping::{min_passing_queries, percentile_estimate_rank, server_criterion};
use crate::histogram::LatencyRecorder;

/// Coefficient of variation of latency above which a closed-loop run gets a warning.
pub const CV_WARNING: f64 = 0.10;
/// 1-minute load average, as a fraction of the logical cores, above which the machine is
/// reported as loaded at the start of a run.
pub const LOAD_WARNING_FRACTION: f64 = 0.5;
/// Confidence of early-stopping estimates (LoadGen's value).
pub const EARLY_STOPPING_CONFIDENCE: f64 = 0.99;

/// The LoadGen scenarios burnish runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// One query at a time, batch 1, next when the previous completes.
    SingleStream,
    /// Maximum throughput with a fixed number of workers and a batch size.
    Offline,
    /// Open-loop Poisson arrivals at a target rate.
    Server,
    /// Closed loop with a fixed number of outstanding queries.
    Concurrency,
}

impl ScenarioKind {
    /// The latency percentile this scenario reports and early-stops on, if any.
    pub fn reported_percentile(self) -> Option<f64> {
        match self {
            Self::SingleStream | Self::Concurrency => Some(0.90),
            Self::Server => Some(0.99),
            Self::Offline => None,
        }
    }

    /// The name used in reports (`single-stream`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleStream => "single-stream",
            Self::Offline => "offline",
            Self::Server => "server",
            Self::Concurrency => "concurrency",
        }
    }
}

/// A preset of run limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// A few seconds per run (see the module docs).
    Quick,
    /// LoadGen-like: 600 s per run.
    Full,
}

/// When a run may stop, and what makes it valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// The run lasts at least this long (for the server, the last query is scheduled no earlier).
    pub min_duration: Duration,
    /// And completes at least this many queries.
    pub min_queries: u64,
    /// Hard stop; reaching it before both minimums makes the run INVALID. `None`: no cap.
    pub max_duration: Option<Duration>,
    /// Untimed queries run before measuring.
    pub warmup_queries: u64,
    /// A quick look: shortfalls only a longer run would fix make the run QUICK, not INVALID
    /// (see the module docs).
    pub quick: bool,
}

impl RunLimits {
    /// Limits with the given minimums, no cap and no warm-up.
    pub fn new(min_duration: Duration, min_queries: u64) -> Self {
        Self {
            min_duration,
            min_queries,
            max_duration: None,
            warmup_queries: 0,
            quick: false,
        }
    }

    /// Marks the limits as a quick look (see the module docs).
    pub fn as_quick(mut self) -> Self {
        self.quick = true;
        self
    }

    /// Sets the hard stop.
    pub fn with_max_duration(mut self, max: Duration) -> Self {
        self.max_duration = Some(max);
        self
    }

    /// Sets the number of warm-up queries.
    pub fn with_warmup(mut self, queries: u64) -> Self {
        self.warmup_queries = queries;
        self
    }
}

impl Profile {
    /// The limits of this profile for a scenario (see the table in the module docs).
    pub fn limits(self, kind: ScenarioKind) -> RunLimits {
        let s = Duration::from_secs;
        match (self, kind) {
            (Self::Quick, ScenarioKind::Server) => RunLimits::new(s(3), 512),
            (Self::Quick, _) => RunLimits::new(s(2), 64),
            (Self::Full, ScenarioKind::SingleStream | ScenarioKind::Concurrency) => {
                RunLimits::new(s(600), 1024)
            }
            (Self::Full, _) => RunLimits::new(s(600), 24576),
        }
        .with_warmup(if self == Self::Quick { 8 } else { 64 })
        .with_max_duration_opt(if self == Self::Quick {
            Some(s(60))
        } else {
            None
        })
        .with_quick(self == Self::Quick)
    }
}

impl RunLimits {
    fn with_max_duration_opt(mut self, max: Option<Duration>) -> Self {
        self.max_duration = max;
        self
    }

    fn with_quick(mut self, quick: bool) -> Self {
        self.quick = quick;
        self
    }
}

/// A latency service-level objective: the `percentile` quantile must not exceed `latency_us`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Latency bound, µs.
    pub latency_us: f64,
    /// Quantile in `(0, 1)`, e.g. `0.99`.
    pub percentile: f64,
}

impl Slo {
    /// The `percentile` quantile must be at most `latency`.
    pub fn new(latency: Duration, percentile: f64) -> Self {
        Self {
            latency_us: latency.as_secs_f64() * 1e6,
            percentile,
        }
    }

    /// p99 at most `latency`.
    pub fn p99(latency: Duration) -> Self {
        Self::new(latency, 0.99)
    }
}

/// VALID, QUICK or INVALID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidityStatus {
    /// Every requirement met.
    Valid,
    /// A quick run: nothing failed, but it is too short for LoadGen's rules (see
    /// [`Validity::quick`] for what a `--full` run would add).
    Quick,
    /// At least one requirement failed; see the reasons.
    Invalid,
}

impl ValidityStatus {
    /// `VALID`, `QUICK` or `INVALID`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::Quick => "QUICK",
            Self::Invalid => "INVALID",
        }
    }
}

/// LoadGen-style early-stopping results for a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// The quantile estimated, e.g. `0.9`.
    pub percentile: f64,
    /// Confidence of the bound.
    pub confidence: f64,
    /// Upper bound on the true quantile at that confidence, µs; `None` with too few queries.
    pub estimate_us: Option<f64>,
    /// Queries needed before any estimate exists.
    pub min_queries_for_estimate: u64,
    /// Server with an SLO: queries over the SLO latency.
    pub overlatency_queries: Option<u64>,
    /// Server with an SLO: whether the query count establishes the SLO.
    pub criterion_met: Option<bool>,
    /// Server with an SLO, when not met: more queries needed if all were under latency.
    pub additional_queries_needed: Option<u64>,
}

/// The verdict on a run, with reasons (for INVALID) and warnings (either way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validity {
    /// VALID, QUICK or INVALID.
    pub status: ValidityStatus,
    /// Why the run is invalid (empty unless INVALID).
    pub reasons: Vec<String>,
    /// A quick run's shortfalls against LoadGen's rules, each with what a `--full` run would
    /// add (empty unless the limits were quick).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick: Vec<String>,
    /// Conditions that make the numbers less trustworthy without invalidating them.
    pub warnings: Vec<String>,
    /// Early stopping, for scenarios that report a percentile.
    pub early_stopping: Option<EarlyStopping>,
}

/// What [`assess`] needs to know about a finished run.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The scenario.
    pub kind: ScenarioKind,
    /// The limits it ran under.
    pub limits: &'a RunLimits,
    /// Measured span of the run (server: scheduled time of the last query).
    pub duration: Duration,
    /// Queries completed (server: including dropped ones, which also fail the run).
    pub queries: u64,
    /// Latencies of the run.
    pub latencies: &'a LatencyRecorder,
    /// Server SLO, if any.
    pub slo: Option<Slo>,
    /// Server queries abandoned after the drain timeout.
    pub dropped: u64,
    /// Whether `max_duration` cut the run short.
    pub truncated: bool,
    /// 1-minute load average at the start, if known.
    pub load_at_start: Option<f64>,
    /// Logical cores of the machine.
    pub cores: usize,
}

/// Judges a run: minimums, SLO, early stopping, drops and truncation make it INVALID; high
/// latency variation (closed loops) and a loaded machine give warnings.
pub fn assess(f: &RunFacts<'_>) -> Validity {
    let mut reasons = Vec::new();
    let mut length = Vec::new();
    let mut warnings = Vec::new();
    if f.duration < f.limits.min_duration {
        length.push(format!(
            "duration {:.2} s is below the minimum {:.2} s",
            f.duration.as_secs_f64(),
            f.limits.min_duration.as_secs_f64()
        ));
    }
    if f.queries < f.limits.min_queries {
        length.push(format!(
            "{} queries is below the minimum {}",
            f.queries, f.limits.min_queries
        ));
    }
    if f.truncated {
        length.push("stopped at max_duration before the minimums were met".to_string());
    }
    if f.dropped > 0 {
        reasons.push(format!(
            "{} queries were abandoned after the drain timeout (their latencies are lower bounds)",
            f.dropped
        ));
    }
    let h = f.latencies.histogram();
    if let Some(slo) = f.slo.filter(|_| !h.is_empty()) {
        let observed = h.value_at_quantile(slo.percentile) as f64 / 1e3;
        if observed > slo.latency_us {
            reasons.push(format!(
                "p{} latency {:.0} µs exceeds the SLO {:.0} µs",
                slo.percentile * 100.0,
                observed,
                slo.latency_us
            ));
        }
    }
    let early_stopping = early_stopping(f);
    if let Some(es) = &early_stopping
        && es.criterion_met == Some(false)
    {
        length.push(format!(
            "early stopping: {} queries over the SLO latency need {} more queries to establish \
             the SLO with {:.0}% confidence",
            es.overlatency_queries.unwrap_or(0),
            es.additional_queries_needed.unwrap_or(0),
            es.confidence * 100.0
        ));
    }
    // Closed loops report the early-stopping estimate; the server is judged by the SLO criterion.
    let needs_estimate = f.kind != ScenarioKind::Server;
    if let Some(es) = early_stopping
        .as_ref()
        .filter(|es| needs_estimate && es.estimate_us.is_none())
    {
        length.push(format!(
            "early stopping: {} queries are too few for a p{} estimate (need {})",
            f.latencies.len(),
            es.percentile * 100.0,
            es.min_queries_for_estimate
        ));
    }
    let closed_loop = matches!(
        f.kind,
        ScenarioKind::SingleStream | ScenarioKind::Concurrency | ScenarioKind::Offline
    );
    if closed_loop && !h.is_empty() && h.mean() > 0.0 {
        let cv = h.stdev() / h.mean();
        if cv > CV_WARNING {
            warnings.push(format!(
                "latency coefficient of variation {:.1}% exceeds {:.0}%: noisy measurement",
                cv * 100.0,
                CV_WARNING * 100.0
            ));
        }
    }
    if let Some(load) = f.load_at_start {
        let limit = LOAD_WARNING_FRACTION * f.cores.max(1) as f64;
        if load > limit {
            warnings.push(format!(
                "machine loaded at start: 1-minute load average {load:.2} > {limit:.2} \
                 ({:.0}% of {} cores)",
                LOAD_WARNING_FRACTION * 100.0,
                f.cores
            ));
        }
    }
    let (status, quick) = if !f.limits.quick {
        reasons.extend(length);
        let status = if reasons.is_empty() {
            ValidityStatus::Valid
        } else {
            ValidityStatus::Invalid
        };
        (status, Vec::new())
    } else if !reasons.is_empty() {
        (ValidityStatus::Invalid, length)
    } else if !length.is_empty() {
        length.push(full_would_add(f.kind));
        (ValidityStatus::Quick, length)
    } else {
        (ValidityStatus::Valid, Vec::new())
    };
    Validity {
        status,
        reasons,
        quick,
        warnings,
        early_stopping,
    }
}

/// What a LoadGen-grade run of `kind` would do that a quick one does not.
fn full_would_add(kind: ScenarioKind) -> String {
    let full = Profile::Full.limits(kind);
    format!(
        "a quick look, not a LoadGen-valid result: `--full` runs each {} run for at least {} s \
         and {} queries, enough for early stopping to decide",
        kind.as_str(),
        full.min_duration.as_secs(),
        full.min_queries
    )
}

fn early_stopping(f: &RunFacts<'_>) -> Option<EarlyStopping> {
    let p = f
        .slo
        .map(|s| s.percentile)
        .or(f.kind.reported_percentile())?;
    let c = EARLY_STOPPING_CONFIDENCE;
    let n = f.latencies.len();
    let estimate_us = percentile_estimate_rank(n, p, c)
        .map(|t| f.latencies.value_at_rank(n + 1 - t) as f64 / 1e3);
    let mut es = EarlyStopping {
        percentile: p,
        confidence: c,
        estimate_us,
        min_queries_for_estimate: min_passing_queries(1, p, c) + 1,
        overlatency_queries: None,
        criterion_met: None,
        additional_queries_needed: None,
    };
    if let (ScenarioKind::Server, Some(slo)) = (f.kind, f.slo) {
        let over = f.latencies.count_above((slo.latency_us * 1e3) as u64);
        let verdict = server_criterion(n, over, p, c);
        es.overlatency_queries = Some(over);
        es.criterion_met = Some(verdict.is_ok());
        es.additional_queries_needed = verdict.err();
    }
    Some(es)
}
