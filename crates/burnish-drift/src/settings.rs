//! Settings and thresholds, with the defaults common monitoring tools use.

use serde::{Deserialize, Serialize};

use crate::DriftError;

/// Everything that shapes an analysis; recorded verbatim in the report.
///
/// Deserializing fills missing fields with defaults, so a settings file may name only what it
/// changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftSettings {
    /// PSI bins for continuous features, cut at reference quantiles. Default 10.
    pub psi_bins: usize,
    /// Floor for a bin's share before PSI takes its logarithm, so that an empty bin contributes a
    /// large but finite term. Default 1e-4, as in Evidently and most PSI write-ups.
    pub psi_epsilon: f64,
    /// Values kept per feature and side; above this a seeded uniform subsample (without
    /// replacement) is used and the feature row says so. Default 100 000.
    pub max_values_per_feature: usize,
    /// Seed for subsampling. Default `0x5EED`.
    pub seed: u64,
    /// When a feature or the predictions count as drifted.
    pub thresholds: Thresholds,
    /// When calibration ranges count as stale.
    pub clip: ClipThresholds,
}

impl Default for DriftSettings {
    fn default() -> Self {
        DriftSettings {
            psi_bins: 10,
            psi_epsilon: 1e-4,
            max_values_per_feature: 100_000,
            seed: 0x5EED,
            thresholds: Thresholds::default(),
            clip: ClipThresholds::default(),
        }
    }
}

impl DriftSettings {
    /// Checks that every setting is in range.
    pub fn validate(&self) -> Result<(), DriftError> {
        let bad = |name, reason: &str| {
            Err(DriftError::InvalidSetting {
                name,
                reason: reason.into(),
            })
        };
        let t = &self.thresholds;
        if self.psi_bins < 2 {
            return bad("psi_bins", "needs at least 2 bins");
        }
        if !(self.psi_epsilon > 0.0 && self.psi_epsilon < 1.0) {
            return bad("psi_epsilon", "must be in (0, 1)");
        }
        if self.max_values_per_feature < 2 {
            return bad("max_values_per_feature", "must be at least 2");
        }
        if !(t.psi_moderate >= 0.0 && t.psi_moderate <= t.psi_significant) {
            return bad(
                "psi_moderate",
                "must satisfy 0 <= psi_moderate <= psi_significant",
            );
        }
        if !(t.p_value > 0.0 && t.p_value < 1.0) {
            return bad("p_value", "must be in (0, 1)");
        }
        if !(t.drift_share > 0.0 && t.drift_share <= 1.0) {
            return bad("drift_share", "must be in (0, 1]");
        }
        if !(self.clip.min_increase >= 0.0 && self.clip.min_ratio >= 1.0) {
            return bad("clip", "min_increase must be >= 0 and min_ratio >= 1");
        }
        Ok(())
    }
}

/// Decision thresholds for features, predictions and the overall verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// PSI at or above this is a moderate shift. Default 0.1.
    pub psi_moderate: f64,
    /// PSI at or above this is a significant shift. Default 0.25.
    pub psi_significant: f64,
    /// A test p-value (KS for continuous features, chi-square for categorical ones and for
    /// predictions) below this rejects "same distribution". Default 0.05.
    pub p_value: f64,
    /// Which signals must fire for a feature to count as drifted.
    pub rule: DriftRule,
    /// The data set counts as drifted when at least this share of features drifted
    /// (Evidently's "dataset drift" rule). Default 0.5.
    pub drift_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            psi_moderate: 0.1,
            psi_significant: 0.25,
            p_value: 0.05,
            rule: DriftRule::PsiOrTest,
            drift_share: 0.5,
        }
    }
}

/// How PSI and the statistical test combine into a per-feature drift decision.
///
/// Tests get very sensitive with many values: at 100 000 values per side, KS rejects shifts of
/// a few thousandths of a standard deviation. `PsiAndTest` asks for a shift that is both
/// statistically real and large enough to matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DriftRule {
    /// Drift if PSI is significant or the test rejects (default).
    #[default]
    PsiOrTest,
    /// Drift if PSI is at least moderate and the test rejects.
    PsiAndTest,
    /// Drift if PSI is significant; the test is reported only.
    PsiOnly,
    /// Drift if the test rejects; PSI is reported only.
    TestOnly,
}

/// When a quantized activation's calibration range counts as stale: the current clip rate must
/// exceed the reference rate by more than `min_increase` (absolute) *and* by more than
/// `min_ratio` times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClipThresholds {
    /// Absolute increase of the clip share required. Default 0.01 (one percentage point).
    pub min_increase: f64,
    /// Ratio current / reference required. Default 2.
    pub min_ratio: f64,
}

impl Default for ClipThresholds {
    fn default() -> Self {
        ClipThresholds {
            min_increase: 0.01,
            min_ratio: 2.0,
        }
    }
}
