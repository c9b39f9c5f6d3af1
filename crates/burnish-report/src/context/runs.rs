//! Contexts of the runs table and the validity section.

use serde::Serialize;

use super::validity;
use crate::dataset::Dataset;
use crate::format;

/// One run in the runs table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Link to its page.
    pub href: String,
    /// Label.
    pub label: String,
    /// Where it came from.
    pub source: &'static str,
    /// Scenario.
    pub scenario: &'static str,
    /// Batch size.
    pub batch: String,
    /// Workers.
    pub workers: String,
    /// Completed queries.
    pub queries: String,
    /// Items per second.
    pub items_per_s: String,
    /// p50.
    pub p50: String,
    /// p90.
    pub p90: String,
    /// p99.
    pub p99: String,
    /// p99.9.
    pub p999: String,
    /// Maximum.
    pub max: String,
    /// CPU utilization.
    pub cpu: String,
    /// `VALID` or `INVALID`.
    pub status: &'static str,
    /// Tone of the status.
    pub tone: &'static str,
    /// Number of warnings.
    pub warnings: usize,
}

/// Validity over all runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidityView {
    /// One sentence.
    pub summary: String,
    /// `good` when every run is valid and unwarned, `warn` with warnings only, else `bad`.
    pub tone: &'static str,
    /// Runs with reasons or warnings.
    pub issues: Vec<RunIssues>,
}

/// A run's reasons and warnings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunIssues {
    /// Label.
    pub label: String,
    /// Link to its page.
    pub href: String,
    /// `VALID`, `QUICK` or `INVALID`.
    pub status: &'static str,
    /// Tone.
    pub tone: &'static str,
    /// Why invalid.
    pub reasons: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// A quick run's shortfalls and what `--full` would add.
    pub quick: Vec<String>,
}

/// Rows of the runs table, in run order.
pub fn rows(ds: &Dataset<'_>) -> Vec<RunRow> {
    ds.runs
        .iter()
        .map(|e| {
            let r = e.run;
            let l = &r.latency;
            let (status, tone) = validity(r);
            RunRow {
                href: e.page(),
                label: r.label.clone(),
                source: e.source.as_str(),
                scenario: r.scenario.as_str(),
                batch: r.settings.batch.to_string(),
                workers: r.settings.workers.to_string(),
                queries: format::count(r.queries),
                items_per_s: format::rate(r.throughput.items_per_s),
                p50: format::us(l.p50_us),
                p90: format::us(l.p90_us),
                p99: format::us(l.p99_us),
                p999: format::us(l.p999_us),
                max: format::us(l.max_us),
                cpu: r
                    .resources
                    .cpu_utilization_pct
                    .map_or(format::NONE.to_string(), |c| format::pct(c / 100.0, 0)),
                status,
                tone,
                warnings: r.validity.warnings.len(),
            }
        })
        .collect()
}

/// The validity summary, runs with issues INVALID first; and the number of INVALID runs.
pub fn validity_view(ds: &Dataset<'_>) -> (ValidityView, usize) {
    let mut issues: Vec<RunIssues> = ds
        .runs
        .iter()
        .filter(|e| {
            let v = &e.run.validity;
            !v.reasons.is_empty() || !v.warnings.is_empty() || !v.quick.is_empty()
        })
        .map(|e| {
            let (status, tone) = validity(e.run);
            RunIssues {
                label: e.run.label.clone(),
                href: e.page(),
                status,
                tone,
                reasons: e.run.validity.reasons.clone(),
                warnings: e.run.validity.warnings.clone(),
                quick: e.run.validity.quick.clone(),
            }
        })
        .collect();
    issues.sort_by_key(|i| i.status != "INVALID");
    let invalid = ds.runs.iter().filter(|e| e.run.is_invalid()).count();
    let quick = ds
        .runs
        .iter()
        .filter(|e| e.run.validity.status == burnish_bench::ValidityStatus::Quick)
        .count();
    let warned = ds
        .runs
        .iter()
        .filter(|e| !e.run.validity.warnings.is_empty())
        .count();
    let quick_text = if quick > 0 {
        format!(
            " {quick} QUICK: quick-profile runs too short for LoadGen's early-stopping rules, a \
             quick look rather than a failure (`--full` runs them at LoadGen's length)."
        )
    } else {
        String::new()
    };
    let view = ValidityView {
        summary: format!(
            "{} of {} runs VALID; {invalid} INVALID; {warned} with warnings.{quick_text}",
            ds.runs.len() - invalid - quick,
            ds.runs.len()
        ),
        tone: if invalid > 0 {
            "bad"
        } else if warned > 0 {
            "warn"
        } else if quick > 0 {
            "info"
        } else {
            "good"
        },
        issues,
    };
    (view, invalid)
}
