//! The drift summary.

use burnish_drift::{DriftReport, DriftTest, FeatureStatus, OverallStatus, PsiLevel, ValueKind};
use serde::Serialize;

use crate::format::{self, NONE};

/// Feature rows shown; drifted and moderate features come first.
const FEATURE_ROWS: usize = 40;

/// The drift section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftView {
    /// `DRIFT` or `NO DRIFT`.
    pub status: &'static str,
    /// Tone.
    pub tone: &'static str,
    /// One line.
    pub headline: String,
    /// The verdict's reasons.
    pub reasons: Vec<String>,
    /// The most drifted features.
    pub features: Vec<FeatureRow>,
    /// What was left out.
    pub features_note: Option<String>,
    /// Clip rates.
    pub clip: Vec<ClipRow>,
}

/// One feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureRow {
    /// Name.
    pub name: String,
    /// Continuous or categorical.
    pub kind: &'static str,
    /// PSI.
    pub psi: String,
    /// PSI level.
    pub psi_level: &'static str,
    /// Test name.
    pub test: &'static str,
    /// Test p-value.
    pub p_value: String,
    /// Normalized Wasserstein-1.
    pub w1: String,
    /// Status.
    pub status: &'static str,
    /// Tone.
    pub tone: &'static str,
}

/// One quantized activation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipRow {
    /// Name.
    pub name: String,
    /// Calibrated range.
    pub range: String,
    /// Reference clip rate.
    pub reference: String,
    /// Current clip rate.
    pub current: String,
    /// `STALE` or `OK`.
    pub status: &'static str,
    /// Tone.
    pub tone: &'static str,
}

fn status(s: FeatureStatus) -> (&'static str, &'static str) {
    match s {
        FeatureStatus::Drift => ("DRIFT", "bad"),
        FeatureStatus::Moderate => ("MODERATE", "warn"),
        FeatureStatus::NoDrift => ("STABLE", "good"),
    }
}

/// The drift view of `d`.
pub fn drift(d: &DriftReport) -> DriftView {
    let v = &d.verdict;
    let drifted = v.status == OverallStatus::Drift;
    let mut features: Vec<_> = d.features.iter().collect();
    features.sort_by(|a, b| {
        b.status
            .cmp(&a.status)
            .then(b.psi.value.total_cmp(&a.psi.value))
            .then(a.name.cmp(&b.name))
    });
    let rest = features.len().saturating_sub(FEATURE_ROWS);
    let mut headline = format!(
        "{} of {} features drifted ({}), {} moderate",
        v.drifted_features.len(),
        v.feature_count,
        format::pct(v.drifted_share, 1),
        v.moderate_features.len()
    );
    if let Some(p) = &d.prediction {
        headline.push_str(&format!(
            "; predictions: {} (PSI {})",
            status(p.status).0.to_lowercase(),
            format::fixed(p.psi.value, 3)
        ));
    }
    DriftView {
        status: if drifted { "DRIFT" } else { "NO DRIFT" },
        tone: if drifted { "bad" } else { "good" },
        headline,
        reasons: v.reasons.clone(),
        features: features
            .into_iter()
            .take(FEATURE_ROWS)
            .map(|f| {
                let (st, tone) = status(f.status);
                FeatureRow {
                    name: f.name.clone(),
                    kind: match f.kind {
                        ValueKind::Continuous => "continuous",
                        ValueKind::Categorical => "categorical",
                    },
                    psi: format::fixed(f.psi.value, 3),
                    psi_level: match f.psi_level {
                        PsiLevel::Stable => "stable",
                        PsiLevel::Moderate => "moderate",
                        PsiLevel::Significant => "significant",
                    },
                    test: match f.test {
                        DriftTest::Ks(_) => "KS",
                        DriftTest::ChiSquare(_) => "χ²",
                    },
                    p_value: format!("{:.3e}", f.test.p_value()),
                    w1: f
                        .wasserstein
                        .and_then(|w| w.normalized)
                        .map_or(NONE.to_string(), |w| format::fixed(w, 3)),
                    status: st,
                    tone,
                }
            })
            .collect(),
        features_note: (rest > 0)
            .then(|| format!("{rest} more features, with lower status or PSI, are not shown.")),
        clip: d
            .clip_rates
            .iter()
            .map(|c| ClipRow {
                name: c.name.clone(),
                range: format!(
                    "[{}, {}]",
                    format::fixed(f64::from(c.min), 3),
                    format::fixed(f64::from(c.max), 3)
                ),
                reference: format::pct(c.reference_rate, 2),
                current: format::pct(c.current_rate, 2),
                status: if c.stale { "STALE" } else { "OK" },
                tone: if c.stale { "bad" } else { "good" },
            })
            .collect(),
    }
}
