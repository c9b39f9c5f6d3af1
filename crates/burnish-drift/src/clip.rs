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
    /// Reference values below `min` (for a quantized activation: that saturate at `qmin`).
    #[serde(default)]
    pub reference_below: usize,
    /// Reference values above `max`.
    #[serde(default)]
    pub reference_above: usize,
    /// Current values below `min`.
    #[serde(default)]
    pub current_below: usize,
    /// Current values above `max`.
    #[serde(default)]
    pub current_above: usize,
    /// On one side of the range (below or above), the current clip share exceeds the reference
    /// share by more than `min_increase` and by more than `min_ratio` times. Sides are judged
    /// apart so that a drop on one side cannot hide a rise on the other (a quantizer that
    /// dropped a Relu in front of its QuantizeLinear clips half of all values below, by design).
    pub stale: bool,
}

/// Values below and above a range, from a per-value classifier.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SideCounts {
    pub(crate) below: usize,
    pub(crate) above: usize,
}

/// Where a value lies relative to a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Below,
    Inside,
    Above,
}

/// Counts values on each side; NaN is an error (infinities classify like any value).
pub(crate) fn count_sides(
    what: &str,
    values: &[f32],
    side: impl Fn(f32) -> Side,
) -> Result<SideCounts, DriftError> {
    if values.is_empty() {
        return Err(DriftError::Empty { what: what.into() });
    }
    let mut counts = SideCounts::default();
    for (index, &value) in values.iter().enumerate() {
        if value.is_nan() {
            return Err(DriftError::NonFinite {
                what: what.into(),
                index,
                value,
            });
        }
        match side(value) {
            Side::Below => counts.below += 1,
            Side::Above => counts.above += 1,
            Side::Inside => {}
        }
    }
    Ok(counts)
}

/// Builds the row from counts on both sides of `[min, max]`.
pub(crate) fn clip_row(
    name: &str,
    (min, max): (f32, f32),
    (reference, reference_values): (SideCounts, usize),
    (current, current_values): (SideCounts, usize),
    t: &ClipThresholds,
) -> ClipRate {
    let share = |n: usize, of: usize| n as f64 / of as f64;
    let stale_side = |r: usize, c: usize| {
        let (r, c) = (share(r, reference_values), share(c, current_values));
        c - r > t.min_increase && c > t.min_ratio * r
    };
    let reference_clipped = reference.below + reference.above;
    let current_clipped = current.below + current.above;
    ClipRate {
        name: name.into(),
        min,
        max,
        reference_clipped,
        reference_values,
        current_clipped,
        current_values,
        reference_rate: share(reference_clipped, reference_values),
        current_rate: share(current_clipped, current_values),
        reference_below: reference.below,
        reference_above: reference.above,
        current_below: current.below,
        current_above: current.above,
        stale: stale_side(reference.below, current.below)
            || stale_side(reference.above, current.above),
    }
}

/// Clip rates of one activation: values strictly outside `[min, max]` clip (infinities too).
pub fn clip_rate(input: &ClipInput<'_>, t: &ClipThresholds) -> Result<ClipRate, DriftError> {
    let ClipInput { name, min, max, .. } = *input;
    if !(min.is_finite() && max.is_finite() && min <= max) {
        return Err(DriftError::InvalidRange {
            name: name.into(),
            min,
            max,
        });
    }
    let side = |v: f32| {
        if v < min {
            Side::Below
        } else if v > max {
            Side::Above
        } else {
            Side::Inside
        }
    };
    let reference = count_sides(&format!("reference {name}"), input.reference, side)?;
    let current = count_sides(&format!("current {name}"), input.current, side)?;
    Ok(clip_row(
        name,
        (min, max),
        (reference, input.reference.len()),
        (current, input.current.len()),
        t,
    ))
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
