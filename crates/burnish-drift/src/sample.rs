//! [`Sample`]: a borrowed, shape-checked view of one tensor whose first dimension is samples.

use crate::DriftError;

/// A borrowed row-major f32 tensor whose first dimension counts samples.
///
/// Construction checks that the shape has at least one dimension, that no dimension is zero and
/// that the shape's element count matches the data. Values are checked for NaN later, when
/// features are extracted, so that the error can name the input.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    data: &'a [f32],
    shape: &'a [usize],
}

impl<'a> Sample<'a> {
    /// Wraps `data` with `shape` (row-major, first dimension = samples).
    ///
    /// Integer inputs such as token ids are passed as f32 too; see
    /// [`ValueKind::Categorical`](crate::ValueKind::Categorical).
    pub fn new(data: &'a [f32], shape: &'a [usize]) -> Result<Self, DriftError> {
        if shape.is_empty() {
            return Err(DriftError::Scalar);
        }
        let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(DriftError::ShapeMismatch {
                shape: shape.to_vec(),
                expected: expected.unwrap_or(usize::MAX),
                actual: data.len(),
            });
        }
        if data.is_empty() {
            return Err(DriftError::Empty {
                what: format!("tensor of shape {shape:?}"),
            });
        }
        Ok(Sample { data, shape })
    }

    /// The flat row-major values.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }

    /// The shape, first dimension = samples.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// Number of samples (the first dimension).
    pub fn samples(&self) -> usize {
        self.shape[0]
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }
}

/// Sorted, finite values of one feature, kept as f64 for the statistics.
///
/// All the continuous statistics ([`ks_test`](crate::ks::ks_test),
/// [`wasserstein_1`](crate::wasserstein::wasserstein_1), [`binned_psi`](crate::psi::binned_psi))
/// take this type so that each feature is sorted once.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedValues {
    values: Vec<f64>,
}

impl SortedValues {
    /// Sorts `values`; errors on an empty slice or a NaN/infinite value (`what` names them).
    pub fn new(what: &str, values: &[f32]) -> Result<Self, DriftError> {
        if values.is_empty() {
            return Err(DriftError::Empty { what: what.into() });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(DriftError::NonFinite {
                what: what.into(),
                index,
                value: values[index],
            });
        }
        let mut values: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        values.sort_unstable_by(f64::total_cmp);
        Ok(SortedValues { values })
    }

    /// The values in ascending order.
    pub fn as_slice(&self) -> &[f64] {
        &self.values
    }

    /// Number of values (never zero).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false: construction rejects empty input. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Arithmetic mean.
    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }

    /// Population standard deviation (divides by n).
    pub fn std(&self) -> f64 {
        let mean = self.mean();
        let var = self.values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        (var / self.values.len() as f64).sqrt()
    }

    /// Quantile at probability `q` in [0, 1], linear interpolation between order statistics
    /// (numpy's default, Hyndman-Fan type 7).
    pub fn quantile(&self, q: f64) -> f64 {
        let last = self.values.len() - 1;
        let pos = q.clamp(0.0, 1.0) * last as f64;
        let lo = pos.floor() as usize;
        let hi = (lo + 1).min(last);
        let frac = pos - lo as f64;
        self.values[lo] + (self.values[hi] - self.values[lo]) * frac
    }
}
