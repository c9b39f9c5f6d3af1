//! One row of the report: every statistic for one feature, and its status.

use serde::{Deserialize, Serialize};

use crate::categories::CategoryTable;
use crate::chi_square::ChiSquare;
use crate::ks::{KsResult, ks_test};
use crate::psi::{Psi, binned_psi};
use crate::wasserstein::{Wasserstein, wasserstein};
use crate::{DriftError, DriftSettings, Feature, FeatureStatus, PsiLevel, SortedValues, ValueKind};

/// Size and moments of one side of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SideStats {
    /// Values the statistics used (after subsampling).
    pub values: usize,
    /// Values the feature had before subsampling.
    pub total: usize,
    /// Mean of the values used (of the ids, for categorical features).
    pub mean: f64,
    /// Population standard deviation of the values used.
    pub std: f64,
}

impl SideStats {
    fn of(sorted: &SortedValues, total: usize) -> Self {
        SideStats {
            values: sorted.len(),
            total,
            mean: sorted.mean(),
            std: sorted.std(),
        }
    }
}

/// The statistical test behind a feature's p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum DriftTest {
    /// Two-sample Kolmogorov-Smirnov (continuous features).
    Ks(KsResult),
    /// Chi-square homogeneity over categories (categorical features).
    ChiSquare(ChiSquare),
}

impl DriftTest {
    /// The test's p-value.
    pub fn p_value(&self) -> f64 {
        match self {
            DriftTest::Ks(k) => k.p_value,
            DriftTest::ChiSquare(c) => c.p_value,
        }
    }
}

/// Drift statistics and decision for one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDrift {
    /// Feature name, see [`features`](crate::features).
    pub name: String,
    /// Continuous or categorical.
    pub kind: ValueKind,
    /// Reference side.
    pub reference: SideStats,
    /// Current side.
    pub current: SideStats,
    /// True when either side was subsampled to `max_values_per_feature`.
    pub subsampled: bool,
    /// PSI over reference-quantile bins (continuous) or categories, rare ones pooled
    /// (categorical).
    pub psi: Psi,
    /// KS (continuous) or chi-square (categorical).
    pub test: DriftTest,
    /// Wasserstein-1 distance; `None` for categorical features, whose ids have no metric.
    pub wasserstein: Option<Wasserstein>,
    /// PSI against the thresholds.
    pub psi_level: PsiLevel,
    /// The decision under the settings' [`DriftRule`](crate::DriftRule).
    pub status: FeatureStatus,
}

/// Computes every statistic for one feature, reference against current.
pub fn compare_feature(
    reference: &Feature,
    current: &Feature,
    kind: ValueKind,
    settings: &DriftSettings,
) -> Result<FeatureDrift, DriftError> {
    let r = SortedValues::new(&format!("reference {}", reference.name), &reference.values)?;
    let c = SortedValues::new(&format!("current {}", current.name), &current.values)?;
    let (psi, test, wasserstein) = match kind {
        ValueKind::Continuous => (
            binned_psi(&r, &c, settings.psi_bins, settings.psi_epsilon),
            DriftTest::Ks(ks_test(&r, &c)),
            Some(wasserstein(&r, &c)),
        ),
        ValueKind::Categorical => {
            let table = CategoryTable::from_values(&reference.values, &current.values);
            let test = DriftTest::ChiSquare(table.chi_square());
            (table.psi(settings.psi_epsilon), test, None)
        }
    };
    let t = &settings.thresholds;
    Ok(FeatureDrift {
        name: reference.name.clone(),
        kind,
        reference: SideStats::of(&r, reference.total),
        current: SideStats::of(&c, current.total),
        subsampled: reference.values.len() < reference.total
            || current.values.len() < current.total,
        psi,
        test,
        wasserstein,
        psi_level: PsiLevel::of(psi.value, t),
        status: FeatureStatus::decide(psi.value, test.p_value(), t),
    })
}
