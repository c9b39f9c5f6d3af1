//! Baseline versus candidate, measured in interleaved rounds.
//!
//! Each round runs a short closed-loop measurement of both sides back to back, alternating the
//! order (AB, BA, AB, ...) so that drift and order effects hit both sides alike. The speedup is
//! `median(baseline) / median(candidate)` over all rounds (above 1: the candidate is faster),
//! with a paired-rounds hierarchical bootstrap interval (see [`crate::bootstrap`]).
//!
//! # Verdict
//!
//! With `m = equivalence_pct / 100` and the interval `[lo, hi]`:
//! - **Equivalent** when `[lo, hi]` lies inside `[1 / (1 + m), 1 + m]` (checked first);
//! - **Faster** when `lo > 1`; **Slower** when `hi < 1`;
//! - **Inconclusive** otherwise, with an estimate of how many more rounds would decide: the
//!   interval's half-width (in log space) shrinks like `1 / sqrt(rounds)`, so the rounds needed
//!   for it to clear 1 (or fit in the equivalence band) are `rounds * (half_width / room)^2`.

use serde::{Deserialize, Serialize};

use crate::bootstrap::{BootstrapConfig, RatioCi, median_ratio_ci};
use crate::error::BenchError;
use crate::histogram::LatencyRecorder;
use crate::resources::{ResourceUsage, logical_cores};
use crate::result::RunResult;
use crate::scenario::closed_loop::{ClosedLoop, run_raw};
use crate::scenario::{LoadGen, Measured, assemble, check_positive};
use crate::stats::PERCENTILES;
use crate::target::Target;
use crate::validity::{RunLimits, ScenarioKind};

/// The closed-loop scenario used for each round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareScenario {
    /// Single-stream (batch 1, one query at a time).
    SingleStream,
    /// Closed loop with `outstanding` queries of `batch` items.
    Concurrency {
        /// Outstanding queries.
        outstanding: usize,
        /// Items per query.
        batch: usize,
    },
}

/// Settings of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareConfig {
    /// Number of rounds (each runs both sides once).
    pub rounds: usize,
    /// Limits of each side's run within a round.
    pub round_limits: RunLimits,
    /// Scenario of each round.
    pub scenario: CompareScenario,
    /// Bootstrap settings for the speedup interval.
    pub bootstrap: BootstrapConfig,
    /// Half-width of the equivalence band, percent.
    pub equivalence_pct: f64,
    /// Raw samples kept per side per round for the bootstrap.
    pub samples_per_round: usize,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            rounds: 10,
            round_limits: RunLimits::new(std::time::Duration::from_millis(500), 20).with_warmup(2),
            scenario: CompareScenario::SingleStream,
            bootstrap: BootstrapConfig::default(),
            equivalence_pct: 2.0,
            samples_per_round: 1000,
        }
    }
}

/// What the comparison concluded about the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The candidate's median latency is lower, beyond noise.
    Faster,
    /// The candidate's median latency is higher, beyond noise.
    Slower,
    /// Within the equivalence band, beyond noise.
    Equivalent,
    /// The data do not decide.
    Inconclusive,
}

/// The change of one statistic from baseline to candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentileDelta {
    /// `p50`, `p90`, `p95`, `p99`, `p99.9`, `mean` or `max`.
    pub name: String,
    /// Baseline value, µs.
    pub baseline_us: f64,
    /// Candidate value, µs.
    pub candidate_us: f64,
    /// `(candidate - baseline) / baseline`, percent (negative: candidate faster).
    pub delta_pct: f64,
}

/// A finished comparison, as stored in result files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Label of the baseline run.
    pub baseline: String,
    /// Label of the candidate run.
    pub candidate: String,
    /// Scenario of the rounds.
    pub scenario: ScenarioKind,
    /// Number of rounds.
    pub rounds: usize,
    /// `median(baseline) / median(candidate)` with its interval.
    pub speedup: RatioCi,
    /// The conclusion.
    pub verdict: Verdict,
    /// Inconclusive: about how many more rounds would decide.
    pub extra_rounds_estimate: Option<u64>,
    /// Per-statistic changes.
    pub deltas: Vec<PercentileDelta>,
    /// Median latency of each baseline round, µs.
    pub baseline_round_medians_us: Vec<f64>,
    /// Median latency of each candidate round, µs.
    pub candidate_round_medians_us: Vec<f64>,
    /// Bootstrap settings used.
    pub bootstrap: BootstrapConfig,
    /// Equivalence band half-width, percent.
    pub equivalence_pct: f64,
    /// One sentence for humans.
    pub summary: String,
}

/// A comparison with the pooled runs of both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOutcome {
    /// The conclusion.
    pub comparison: Comparison,
    /// The baseline's rounds pooled into one run, labeled `<name> (baseline)`.
    pub baseline: RunResult,
    /// The candidate's rounds pooled into one run, labeled `<name> (candidate)`.
    pub candidate: RunResult,
}

/// Compares two targets with a silent default [`LoadGen`].
pub fn compare(
    baseline: &dyn Target,
    candidate: &dyn Target,
    cfg: &CompareConfig,
) -> Result<CompareOutcome, BenchError> {
    LoadGen::new().compare(baseline, candidate, cfg)
}

struct Side {
    rounds: Vec<Vec<f64>>,
    results: Vec<RunResult>,
    pooled: LatencyRecorder,
    truncated: bool,
}

impl LoadGen {
    /// Compares `baseline` and `candidate` in interleaved rounds (see the module docs).
    pub fn compare(
        &self,
        baseline: &dyn Target,
        candidate: &dyn Target,
        cfg: &CompareConfig,
    ) -> Result<CompareOutcome, BenchError> {
        check_positive("rounds", cfg.rounds)?;
        let (kind, workers, batch) = match cfg.scenario {
            CompareScenario::SingleStream => (ScenarioKind::SingleStream, 1, 1),
            CompareScenario::Concurrency { outstanding, batch } => {
                (ScenarioKind::Concurrency, outstanding, batch)
            }
        };
        let per_round = self.clone().with_sample_cap(cfg.samples_per_round);
        let spec = |seed| ClosedLoop {
            kind,
            workers,
            batch,
            limits: &cfg.round_limits,
            seed,
        };
        let new_side = || Side {
            rounds: Vec::new(),
            results: Vec::new(),
            pooled: LatencyRecorder::new(self.sample_cap(), cfg.bootstrap.seed),
            truncated: false,
        };
        let (mut a, mut b) = (new_side(), new_side());
        for round in 0..cfg.rounds {
            self.progress()
                .note(&format!("compare: round {}/{}", round + 1, cfg.rounds));
            let order: [(&dyn Target, &mut Side); 2] = if round % 2 == 0 {
                [(baseline, &mut a), (candidate, &mut b)]
            } else {
                [(candidate, &mut b), (baseline, &mut a)]
            };
            for (target, side) in order {
                let raw = run_raw(&per_round, target, &spec(round as u64 + 1))?;
                let samples = raw.latencies.samples().iter().map(|&ns| ns as f64 / 1e3);
                side.rounds.push(samples.collect());
                side.pooled.merge(&raw.latencies);
                side.truncated |= raw.truncated;
                side.results.push(raw.result);
            }
        }
        let baseline_run =
            pool(baseline, kind, &a, cfg)?.labeled(format!("{} (baseline)", baseline.name()));
        let candidate_run =
            pool(candidate, kind, &b, cfg)?.labeled(format!("{} (candidate)", candidate.name()));
        let mut comparison = compare_rounds(&a.rounds, &b.rounds, cfg)?;
        comparison.baseline = baseline_run.label.clone();
        comparison.candidate = candidate_run.label.clone();
        comparison.scenario = kind;
        comparison.deltas = deltas(&baseline_run, &candidate_run);
        Ok(CompareOutcome {
            comparison,
            baseline: baseline_run,
            candidate: candidate_run,
        })
    }
}

/// Compares latency samples already grouped in paired rounds (`a`: baseline, `b`: candidate),
/// without running anything. Labels, scenario and deltas are left for the caller to fill.
pub fn compare_rounds(
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    cfg: &CompareConfig,
) -> Result<Comparison, BenchError> {
    let speedup = median_ratio_ci(a, b, &cfg.bootstrap).ok_or(BenchError::NoSamples {
        label: "comparison".to_string(),
        reason: "both sides need samples in the same number of rounds",
    })?;
    let m = cfg.equivalence_pct / 100.0;
    let verdict = if speedup.lo >= 1.0 / (1.0 + m) && speedup.hi <= 1.0 + m && m > 0.0 {
        Verdict::Equivalent
    } else if speedup.lo > 1.0 {
        Verdict::Faster
    } else if speedup.hi < 1.0 {
        Verdict::Slower
    } else {
        Verdict::Inconclusive
    };
    let extra_rounds_estimate = (verdict == Verdict::Inconclusive)
        .then(|| extra_rounds(&speedup, a.len(), m))
        .flatten();
    let summary = format!(
        "candidate is {} (speedup {:.3}x, {:.0}% CI {:.3}..{:.3}, {} rounds){}",
        match verdict {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Equivalent => "equivalent",
            Verdict::Inconclusive => "not distinguishable yet",
        },
        speedup.estimate,
        speedup.confidence * 100.0,
        speedup.lo,
        speedup.hi,
        a.len(),
        extra_rounds_estimate
            .map(|n| format!("; about {n} more rounds would decide"))
            .unwrap_or_default()
    );
    let round_medians = |rs: &[Vec<f64>]| rs.iter().map(|r| crate::stats::median(r)).collect();
    Ok(Comparison {
        baseline: String::new(),
        candidate: String::new(),
        scenario: ScenarioKind::SingleStream,
        rounds: a.len(),
        speedup,
        verdict,
        extra_rounds_estimate,
        deltas: Vec::new(),
        baseline_round_medians_us: round_medians(a),
        candidate_round_medians_us: round_medians(b),
        bootstrap: cfg.bootstrap,
        equivalence_pct: cfg.equivalence_pct,
        summary,
    })
}

/// Rounds still needed, assuming the log-space half-width shrinks like `1 / sqrt(rounds)`.
fn extra_rounds(ci: &RatioCi, rounds: usize, m: f64) -> Option<u64> {
    let s = ci.estimate.ln();
    let (hw_lo, hw_hi) = (s - ci.lo.ln(), ci.hi.ln() - s);
    let r = rounds as f64;
    let mut needed = f64::INFINITY;
    if s > 0.0 && hw_lo > 0.0 {
        needed = needed.min(r * (hw_lo / s).powi(2));
    } else if s < 0.0 && hw_hi > 0.0 {
        needed = needed.min(r * (hw_hi / -s).powi(2));
    }
    let room = (1.0 + m).ln() - s.abs();
    if m > 0.0 && room > 0.0 {
        needed = needed.min(r * (hw_lo.max(hw_hi) / room).powi(2));
    }
    needed
        .is_finite()
        .then(|| ((needed - r).ceil().max(1.0)) as u64)
}

fn deltas(a: &RunResult, b: &RunResult) -> Vec<PercentileDelta> {
    let names = PERCENTILES.iter().map(|(n, _)| *n).chain(["mean", "max"]);
    names
        .filter_map(|name| {
            let (x, y) = (a.latency.get(name)?, b.latency.get(name)?);
            Some(PercentileDelta {
                name: name.to_string(),
                baseline_us: x,
                candidate_us: y,
                delta_pct: if x > 0.0 { (y - x) / x * 100.0 } else { 0.0 },
            })
        })
        .collect()
}

/// Pools one side's rounds into a single run.
fn pool(
    target: &dyn Target,
    kind: ScenarioKind,
    side: &Side,
    cfg: &CompareConfig,
) -> Result<RunResult, BenchError> {
    let rounds = side.results.as_slice();
    let latencies = side.pooled.clone();
    let first = rounds.first().ok_or(BenchError::NoSamples {
        label: target.name().to_string(),
        reason: "a comparison needs at least one round",
    })?;
    let n = rounds.len() as u32;
    let limits = RunLimits {
        min_duration: cfg.round_limits.min_duration * n,
        min_queries: cfg.round_limits.min_queries * u64::from(n),
        ..cfg.round_limits
    };
    let span: f64 = rounds.iter().map(|r| r.duration_s).sum();
    let cpu: Option<f64> = rounds.iter().map(|r| r.resources.cpu_seconds).sum();
    let completed = latencies.len();
    let items = completed * first.settings.batch as u64;
    let cores = logical_cores();
    let resources = ResourceUsage {
        cpu_seconds: cpu,
        cpu_utilization_pct: cpu
            .filter(|_| span > 0.0)
            .map(|c| 100.0 * c / span / cores as f64),
        items_per_cpu_second: cpu.filter(|&c| c > 0.0).map(|c| items as f64 / c),
        peak_rss_bytes: rounds
            .iter()
            .filter_map(|r| r.resources.peak_rss_bytes)
            .max(),
        load_avg_1m_at_start: first.resources.load_avg_1m_at_start,
        cores,
    };
    let truncated = side.truncated;
    let mut settings = first.settings.clone();
    settings.min_duration_s = limits.min_duration.as_secs_f64();
    settings.min_queries = limits.min_queries;
    let span_d = std::time::Duration::from_secs_f64(span);
    let m = Measured {
        latencies,
        completed,
        counted: completed,
        span: span_d,
        judged: span_d,
        truncated,
        dropped: 0,
        server: None,
        query_log: Vec::new(),
    };
    Ok(assemble(
        target, kind, settings, &limits, None, m, resources,
    ))
}
