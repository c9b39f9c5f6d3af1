//! Turning statistics into decisions: per-feature status and the overall verdict.

use serde::{Deserialize, Serialize};

use crate::{ClipRate, DriftRule, FeatureDrift, PredictionDrift, Thresholds};

/// Where a PSI value falls against the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsiLevel {
    /// Below `psi_moderate` (default 0.1): no meaningful shift.
    Stable,
    /// In `[psi_moderate, psi_significant)` (default 0.1 – 0.25): worth watching.
    Moderate,
    /// At or above `psi_significant` (default 0.25): a significant shift.
    Significant,
}

impl PsiLevel {
    /// Classifies `psi` against `t`.
    pub fn of(psi: f64, t: &Thresholds) -> Self {
        if psi >= t.psi_significant {
            PsiLevel::Significant
        } else if psi >= t.psi_moderate {
            PsiLevel::Moderate
        } else {
            PsiLevel::Stable
        }
    }
}

/// Decision for one feature (or for the predictions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureStatus {
    /// Nothing fired.
    NoDrift,
    /// PSI is moderate but the [`DriftRule`] does not call it drift: watch it.
    Moderate,
    /// Drifted under the [`DriftRule`].
    Drift,
}

impl FeatureStatus {
    /// Combines a PSI value and a test p-value under `t.rule`.
    pub fn decide(psi: f64, p_value: f64, t: &Thresholds) -> Self {
        let level = PsiLevel::of(psi, t);
        let rejects = p_value < t.p_value;
        let drift = match t.rule {
            DriftRule::PsiOrTest => level == PsiLevel::Significant || rejects,
            DriftRule::PsiAndTest => level >= PsiLevel::Moderate && rejects,
            DriftRule::PsiOnly => level == PsiLevel::Significant,
            DriftRule::TestOnly => rejects,
        };
        if drift {
            FeatureStatus::Drift
        } else if level >= PsiLevel::Moderate {
            FeatureStatus::Moderate
        } else {
            FeatureStatus::NoDrift
        }
    }
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// No signal reached its threshold.
    NoDrift,
    /// See [`Verdict::reasons`].
    Drift,
}

/// The overall verdict and what led to it.
///
/// The data set drifts when at least `drift_share` of all features drifted, when the
/// predictions drifted, or when some calibration range went stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Drift or not.
    pub status: OverallStatus,
    /// Names of features whose status is [`FeatureStatus::Drift`], in report order.
    pub drifted_features: Vec<String>,
    /// Names of features whose status is [`FeatureStatus::Moderate`].
    pub moderate_features: Vec<String>,
    /// Number of features analysed.
    pub feature_count: usize,
    /// `drifted_features.len() / feature_count` (0 without features).
    pub drifted_share: f64,
    /// Whether the top-1 prediction distribution drifted.
    pub prediction_drift: bool,
    /// Activations whose calibration range looks stale.
    pub stale_calibration: Vec<String>,
    /// One line per signal that fired, for humans.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Derives the verdict from the per-feature rows, the prediction drift and the clip rates.
    pub fn decide(
        features: &[FeatureDrift],
        prediction: Option<&PredictionDrift>,
        clips: &[ClipRate],
        t: &Thresholds,
    ) -> Self {
        let names = |status| {
            features
                .iter()
                .filter(|f| f.status == status)
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
        };
        let drifted_features = names(FeatureStatus::Drift);
        let moderate_features = names(FeatureStatus::Moderate);
        let feature_count = features.len();
        let drifted_share = if feature_count == 0 {
            0.0
        } else {
            drifted_features.len() as f64 / feature_count as f64
        };
        let prediction_drift = prediction.is_some_and(|p| p.status == FeatureStatus::Drift);
        let stale_calibration: Vec<String> = clips
            .iter()
            .filter(|c| c.stale)
            .map(|c| c.name.clone())
            .collect();

        let mut reasons = Vec::new();
        if feature_count > 0 && drifted_share >= t.drift_share {
            reasons.push(format!(
                "{} of {} features drifted ({:.1}%, threshold {:.1}%)",
                drifted_features.len(),
                feature_count,
                100.0 * drifted_share,
                100.0 * t.drift_share
            ));
        }
        if let Some(p) = prediction.filter(|_| prediction_drift) {
            reasons.push(format!(
                "top-1 predictions drifted (PSI {:.3}, chi-square p {:.2e})",
                p.psi.value, p.chi_square.p_value
            ));
        }
        if !stale_calibration.is_empty() {
            reasons.push(format!(
                "calibration ranges look stale for {}",
                stale_calibration.join(", ")
            ));
        }
        Verdict {
            status: if reasons.is_empty() {
                OverallStatus::NoDrift
            } else {
                OverallStatus::Drift
            },
            drifted_features,
            moderate_features,
            feature_count,
            drifted_share,
            prediction_drift,
            stale_calibration,
            reasons,
        }
    }
}
