//! Prediction drift: has the distribution of top-1 classes moved?

use serde::{Deserialize, Serialize};

use crate::categories::CategoryTable;
use crate::chi_square::ChiSquare;
use crate::psi::Psi;
use crate::{DriftError, DriftSettings, FeatureStatus, PsiLevel, Sample};

/// Reference and current frequency of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassFrequency {
    /// Class index on the last axis.
    pub class: usize,
    /// Times it was the top-1 class on the reference data.
    pub reference_count: u64,
    /// Times it was the top-1 class on the current data.
    pub current_count: u64,
    /// `reference_count` / reference predictions.
    pub reference: f64,
    /// `current_count` / current predictions.
    pub current: f64,
}

/// Top-1 class distribution, reference against current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionDrift {
    /// Classes on the last axis (K).
    pub classes: usize,
    /// Predictions counted on the reference data (product of all but the last dimension).
    pub reference_predictions: usize,
    /// Predictions counted on the current data.
    pub current_predictions: usize,
    /// One entry per class, in class order.
    pub frequencies: Vec<ClassFrequency>,
    /// PSI over classes (classes seen fewer than
    /// [`MIN_CELL_TOTAL`](crate::categories::MIN_CELL_TOTAL) times in all are pooled).
    pub psi: Psi,
    /// Chi-square test of homogeneity over the same cells.
    pub chi_square: ChiSquare,
    /// PSI against the thresholds.
    pub psi_level: PsiLevel,
    /// Decision under the settings' [`DriftRule`](crate::DriftRule), chi-square as the test.
    pub status: FeatureStatus,
}

/// Counts how often each class is the arg-max of the last axis.
///
/// `outputs` are logits or probabilities `[N, K]`; higher ranks `[N, .., K]` count every
/// leading position as one prediction (per-token logits). Ties go to the lower class index.
/// Errors when K < 2 or on NaN.
pub fn top1_counts(what: &str, outputs: &Sample<'_>) -> Result<Vec<u64>, DriftError> {
    let shape = outputs.shape();
    let k = shape[shape.len() - 1];
    if shape.len() < 2 || k < 2 {
        return Err(DriftError::TooFewClasses {
            shape: shape.to_vec(),
        });
    }
    let mut counts = vec![0u64; k];
    for (row_index, row) in outputs.data().chunks_exact(k).enumerate() {
        let mut best = 0;
        for (j, &v) in row.iter().enumerate() {
            if v.is_nan() {
                return Err(DriftError::NonFinite {
                    what: what.into(),
                    index: row_index * k + j,
                    value: v,
                });
            }
            if v > row[best] {
                best = j;
            }
        }
        counts[best] += 1;
    }
    Ok(counts)
}

/// Compares the top-1 class distributions of two sets of model outputs.
pub fn prediction_drift(
    reference: &Sample<'_>,
    current: &Sample<'_>,
    settings: &DriftSettings,
) -> Result<PredictionDrift, DriftError> {
    let r = top1_counts("reference predictions", reference)?;
    let c = top1_counts("current predictions", current)?;
    if r.len() != c.len() {
        return Err(DriftError::FeatureCountMismatch {
            input: "predictions".into(),
            reference: r.len(),
            current: c.len(),
        });
    }
    let (rn, cn) = (r.iter().sum::<u64>(), c.iter().sum::<u64>());
    let frequencies = r
        .iter()
        .zip(&c)
        .enumerate()
        .map(|(class, (&rc, &cc))| ClassFrequency {
            class,
            reference_count: rc,
            current_count: cc,
            reference: rc as f64 / rn as f64,
            current: cc as f64 / cn as f64,
        })
        .collect();
    let table = CategoryTable::from_counts(&r, &c);
    let psi = table.psi(settings.psi_epsilon);
    let chi_square = table.chi_square();
    let t = &settings.thresholds;
    Ok(PredictionDrift {
        classes: r.len(),
        reference_predictions: rn as usize,
        current_predictions: cn as usize,
        frequencies,
        psi,
        chi_square,
        psi_level: PsiLevel::of(psi.value, t),
        status: FeatureStatus::decide(psi.value, chi_square.p_value, t),
    })
}
