//! The regression gate: is a new run slower than a saved one, beyond noise?
//!
//! The slowdown is `median(new) / median(saved) - 1`. Its confidence interval comes from the
//! ordinary bootstrap of the two runs' retained raw samples (each run is one "round" of
//! [`crate::bootstrap::median_ratio_ci`]). The gate reports **Regressed** only when the whole
//! interval lies above the threshold: "slower beyond noise" means even the most favourable
//! plausible slowdown exceeds what the caller tolerates. A slowdown whose point estimate exceeds
//! the threshold but whose interval reaches below it passes, with a reason saying so.
//!
//! The two runs were measured at different times, so drift between them is not in the
//! interval: choose a threshold that absorbs the machine's run-to-run variation (a few percent
//! on a quiet machine).

use serde::{Deserialize, Serialize};

use crate::bootstrap::{BootstrapConfig, median_ratio_ci};
use crate::error::BenchError;
use crate::result::RunResult;

/// Gate outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionStatus {
    /// Slower beyond the threshold and beyond noise.
    Regressed,
    /// Not shown to be slower beyond the threshold.
    Ok,
}

/// The regression gate's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionReport {
    /// Label of the saved run.
    pub saved: String,
    /// Label of the new run.
    pub new: String,
    /// Regressed or Ok.
    pub status: RegressionStatus,
    /// Tolerated slowdown, percent.
    pub threshold_pct: f64,
    /// Median slowdown, percent (negative: faster).
    pub slowdown_pct: f64,
    /// Lower bound of the slowdown interval, percent.
    pub ci_lo_pct: f64,
    /// Upper bound of the slowdown interval, percent.
    pub ci_hi_pct: f64,
    /// Confidence level of the interval.
    pub confidence: f64,
    /// Why, in one sentence.
    pub reason: String,
    /// Differences in settings that make the comparison questionable.
    pub notes: Vec<String>,
}

/// Checks `new` against `saved` with the default bootstrap (2000 resamples, 95%).
pub fn regression_check(
    saved: &RunResult,
    new: &RunResult,
    threshold_pct: f64,
) -> Result<RegressionReport, BenchError> {
    regression_check_with(saved, new, threshold_pct, &BootstrapConfig::default())
}

/// Checks `new` against `saved` with explicit bootstrap settings.
pub fn regression_check_with(
    saved: &RunResult,
    new: &RunResult,
    threshold_pct: f64,
    bootstrap: &BootstrapConfig,
) -> Result<RegressionReport, BenchError> {
    for r in [saved, new] {
        if r.samples_us.is_empty() {
            return Err(BenchError::NoSamples {
                label: r.label.clone(),
                reason: "the regression gate bootstraps raw samples",
            });
        }
    }
    let ci = median_ratio_ci(
        std::slice::from_ref(&new.samples_us),
        std::slice::from_ref(&saved.samples_us),
        bootstrap,
    )
    .ok_or(BenchError::NoSamples {
        label: new.label.clone(),
        reason: "the regression gate bootstraps raw samples",
    })?;
    let pct = |x: f64| (x - 1.0) * 100.0;
    let (slowdown_pct, ci_lo_pct, ci_hi_pct) = (pct(ci.estimate), pct(ci.lo), pct(ci.hi));
    let range = format!(
        "slowdown {slowdown_pct:+.2}% ({:.0}% CI {ci_lo_pct:+.2}%..{ci_hi_pct:+.2}%)",
        ci.confidence * 100.0
    );
    let (status, reason) = if ci_lo_pct > threshold_pct {
        (
            RegressionStatus::Regressed,
            format!("{range} lies entirely above the {threshold_pct}% threshold"),
        )
    } else if slowdown_pct > threshold_pct {
        (
            RegressionStatus::Ok,
            format!("{range} exceeds the {threshold_pct}% threshold but not beyond noise"),
        )
    } else {
        (
            RegressionStatus::Ok,
            format!("{range} is within the {threshold_pct}% threshold"),
        )
    };
    Ok(RegressionReport {
        saved: saved.label.clone(),
        new: new.label.clone(),
        status,
        threshold_pct,
        slowdown_pct,
        ci_lo_pct,
        ci_hi_pct,
        confidence: ci.confidence,
        reason,
        notes: setting_notes(saved, new),
    })
}

fn setting_notes(a: &RunResult, b: &RunResult) -> Vec<String> {
    let mut notes = Vec::new();
    if a.scenario != b.scenario {
        notes.push(format!(
            "scenarios differ: {} vs {}",
            a.scenario.as_str(),
            b.scenario.as_str()
        ));
    }
    let (sa, sb) = (&a.settings, &b.settings);
    if sa.batch != sb.batch || sa.workers != sb.workers {
        notes.push(format!(
            "batch/workers differ: {}/{} vs {}/{}",
            sa.batch, sa.workers, sb.batch, sb.workers
        ));
    }
    if sa.intra_op_threads != sb.intra_op_threads {
        notes.push(format!(
            "intra-op threads differ: {:?} vs {:?}",
            sa.intra_op_threads, sb.intra_op_threads
        ));
    }
    for (name, r) in [("saved", a), ("new", b)] {
        if r.is_invalid() {
            notes.push(format!(
                "the {name} run is INVALID: {}",
                r.validity.reasons.join("; ")
            ));
        }
    }
    notes
}
