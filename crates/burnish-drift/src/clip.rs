//! Clip rates of quantized activations: are the calibration ranges still right?
//!
//! A quantizer maps each activation's calibration range `[min, max]` onto its integer grid;
//! values outside are clipped. If live data clips much more often than the reference data did,
//! the ranges were calibrated on data that no longer looks like production.

use serde::{Deserialize, Serialize};

use crate::{ClipThresholds, DriftError};

/// One quantized activation: its calibration range and values observed on both data sets.
#[derive(Debug, Clone, Copy)]
pub struct ClipInput<'a> {
    /// Activation (tensor) name.
    pub name: &'a str,
    /// Calibration minimum.
    pub min: f32,
    /// Calibration maximum.
    pub max: f32,
    /// Values observed on the reference data.
    pub reference: &'a [f32],
    /// Values observed on the current data.
    pub current: &'a [f32],
}

/// Clip rates of one activation and the staleness decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipRate {
    /// Activation name.
    pub name: String,
    /// Calibration minimum.
    pub min: f32,
    /// Calibration maximum.
    pub max: f32,
    /// Reference values outside `[min, max]`.
    pub reference_clipped: usize,
    /// Reference values observed.
    pub reference_values: usize,
    /// Current values outside `[min, max]`.
    pub current_clipped: usize,
    /// Current values observed.
    pub current_values: usize,
    /// Share of reference values outside the range.
    pub reference_rate: f64,
    /// Share of current values outside the range.
    pub current_rate: f64,
    /// Current rate exceeds the reference rate by more than `min_increase` and `min_ratio`.
    pub stale: bool,
}

/// Counts values strictly outside `[min, max]`; infinities count as clipped, NaN is an error.
fn clipped(what: &str, values: &[f32], min: f32, max: f32) -> Result<usize, DriftError> {
    if values.is_empty() {
        return Err(DriftError::Empty { what: what.into() });
    }
    let mut count = 0;
    for (index, &value) in values.iter().enumerate() {
        if value.is_nan() {
            return Err(DriftError::NonFinite {
                what: what.into(),
                index,
                value,
            });
        }
        count += usize::from(value < min || value > max);
    }
    Ok(count)
}

/// Clip rates of one activation.
pub fn clip_rate(input: &ClipInput<'_>, t: &ClipThresholds) -> Result<ClipRate, DriftError> {
    let ClipInput { name, min, max, .. } = *input;
    if !(min.is_finite() && max.is_finite() && min <= max) {
        return Err(DriftError::InvalidRange {
            name: name.into(),
            min,
            max,
        });
    }
    let reference_clipped = clipped(&format!("reference {name}"), input.reference, min, max)?;
    let current_clipped = clipped(&format!("current {name}"), input.current, min, max)?;
    let reference_rate = reference_clipped as f64 / input.reference.len() as f64;
    let current_rate = current_clipped as f64 / input.current.len() as f64;
    Ok(ClipRate {
        name: name.into(),
        min,
        max,
        reference_clipped,
        reference_values: input.reference.len(),
        current_clipped,
        current_values: input.current.len(),
        reference_rate,
        current_rate,
        stale: current_rate - reference_rate > t.min_increase
            && current_rate > t.min_ratio * reference_rate,
    })
}

/// Clip rates of several activations, in order; errors on a repeated name.
pub fn clip_rates(
    inputs: &[ClipInput<'_>],
    t: &ClipThresholds,
) -> Result<Vec<ClipRate>, DriftError> {
    let mut out: Vec<ClipRate> = Vec::with_capacity(inputs.len());
    for input in inputs {
        if out.iter().any(|c| c.name == input.name) {
            return Err(DriftError::Duplicate {
                name: input.name.into(),
            });
        }
        out.push(clip_rate(input, t)?);
    }
    Ok(out)
}
