//! Contexts of the verdict section: comparisons and regression gates.

use burnish_bench::{Comparison, RegressionStatus, Verdict};
use serde::Serialize;

use crate::dataset::Dataset;
use crate::format;

/// One comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonView {
    /// Baseline label.
    pub baseline: String,
    /// Candidate label.
    pub candidate: String,
    /// `FASTER`, `SLOWER`, `EQUIVALENT` or `INCONCLUSIVE`.
    pub verdict: &'static str,
    /// Tone of the verdict.
    pub tone: &'static str,
    /// The comparison's own sentence.
    pub summary: String,
    /// Speedup estimate.
    pub speedup: String,
    /// Interval `[lo, hi]`.
    pub ci: String,
    /// Confidence level, e.g. `95%`.
    pub confidence: String,
    /// Equivalence band.
    pub equivalence: String,
    /// Scenario of the rounds.
    pub scenario: &'static str,
    /// Number of rounds.
    pub rounds: String,
    /// Estimated extra rounds when inconclusive.
    pub extra_rounds: String,
    /// Per-statistic changes.
    pub deltas: Vec<DeltaRow>,
}

/// The change of one statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeltaRow {
    /// Statistic name.
    pub name: String,
    /// Baseline value.
    pub baseline: String,
    /// Candidate value.
    pub candidate: String,
    /// Signed change in percent.
    pub delta: String,
    /// `good` when lower, `bad` when higher (beyond 1%), `info` otherwise.
    pub tone: &'static str,
}

/// One regression gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionRow {
    /// Saved run.
    pub saved: String,
    /// New run.
    pub new: String,
    /// `REGRESSED` or `OK`.
    pub status: &'static str,
    /// Tone of the status.
    pub tone: &'static str,
    /// Median slowdown.
    pub slowdown: String,
    /// Its interval.
    pub ci: String,
    /// Tolerated slowdown.
    pub threshold: String,
    /// Why.
    pub reason: String,
    /// Setting differences.
    pub notes: Vec<String>,
}

/// The name and tone of a verdict.
pub fn verdict(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Faster => ("FASTER", "good"),
        Verdict::Slower => ("SLOWER", "bad"),
        Verdict::Equivalent => ("EQUIVALENT", "info"),
        Verdict::Inconclusive => ("INCONCLUSIVE", "warn"),
    }
}

/// The view of one comparison.
pub fn comparison(c: &Comparison) -> ComparisonView {
    let (v, tone) = verdict(c.verdict);
    let s = &c.speedup;
    ComparisonView {
        baseline: c.baseline.clone(),
        candidate: c.candidate.clone(),
        verdict: v,
        tone,
        summary: c.summary.clone(),
        speedup: format::ratio(s.estimate),
        ci: format!("[{}, {}]", format::fixed(s.lo, 3), format::fixed(s.hi, 3)),
        confidence: format::pct(s.confidence, 0),
        equivalence: format!("±{}%", format::fixed(c.equivalence_pct, 1)),
        scenario: c.scenario.as_str(),
        rounds: c.rounds.to_string(),
        extra_rounds: c
            .extra_rounds_estimate
            .map_or(format::NONE.to_string(), |n| {
                format!("about {}", format::count(n))
            }),
        deltas: c
            .deltas
            .iter()
            .map(|d| DeltaRow {
                name: d.name.clone(),
                baseline: format::us(d.baseline_us),
                candidate: format::us(d.candidate_us),
                delta: format::signed_pct(d.delta_pct),
                tone: if d.delta_pct < -1.0 {
                    "good"
                } else if d.delta_pct > 1.0 {
                    "bad"
                } else {
                    "info"
                },
            })
            .collect(),
    }
}

/// Rows of the regression-gate table.
pub fn regressions(ds: &Dataset<'_>) -> Vec<RegressionRow> {
    ds.regressions
        .iter()
        .map(|r| {
            let regressed = r.status == RegressionStatus::Regressed;
            RegressionRow {
                saved: r.saved.clone(),
                new: r.new.clone(),
                status: if regressed { "REGRESSED" } else { "OK" },
                tone: if regressed { "bad" } else { "good" },
                slowdown: format::signed_pct(r.slowdown_pct),
                ci: format!(
                    "[{}, {}]",
                    format::signed_pct(r.ci_lo_pct),
                    format::signed_pct(r.ci_hi_pct)
                ),
                threshold: format!("{}%", format::fixed(r.threshold_pct, 1)),
                reason: r.reason.clone(),
                notes: r.notes.clone(),
            }
        })
        .collect()
}
