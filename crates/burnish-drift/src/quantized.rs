//! Clip rates of activations quantized by an ONNX `QuantizeLinear` (static int8 models).
//!
//! `QuantizeLinear` computes `q = saturate(round_half_even(x / scale) + zero_point)` into
//! `[qmin, qmax]` (in f32, as onnxruntime does). A value *clips* when the rounded value lies
//! outside `[qmin, qmax]`, i.e. when `x` is outside about
//! `[(qmin - zp - 0.5) * scale, (qmax - zp + 0.5) * scale]`: closer than half a step to the
//! range the error is the ordinary rounding error. Counting uses the exact formula, not the
//! real-valued range, so the counts match onnxruntime's saturation one for one.

use serde::{Deserialize, Serialize};

use crate::clip::{Side, clip_row, count_sides};
use crate::{ClipRate, ClipThresholds, DriftError};

/// The integer grid of one per-tensor `QuantizeLinear`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantGrid {
    /// Scale (positive, finite).
    pub scale: f32,
    /// Zero point, in `[qmin, qmax]`.
    pub zero_point: i32,
    /// Smallest integer (0 for u8, -128 for i8).
    pub qmin: i32,
    /// Largest integer (255 for u8, 127 for i8).
    pub qmax: i32,
}

impl QuantGrid {
    /// The grid of an 8-bit type: `signed` is i8 (`[-128, 127]`), otherwise u8 (`[0, 255]`).
    pub fn int8(scale: f32, zero_point: i32, signed: bool) -> Self {
        let (qmin, qmax) = if signed { (-128, 127) } else { (0, 255) };
        QuantGrid {
            scale,
            zero_point,
            qmin,
            qmax,
        }
    }

    /// The real values that quantize without saturating, up to rounding at the ends:
    /// `[(qmin - zp - 0.5) * scale, (qmax - zp + 0.5) * scale]`.
    pub fn range(&self) -> (f32, f32) {
        let s = f64::from(self.scale);
        let zp = f64::from(self.zero_point);
        (
            ((f64::from(self.qmin) - zp - 0.5) * s) as f32,
            ((f64::from(self.qmax) - zp + 0.5) * s) as f32,
        )
    }

    fn validate(&self, name: &str) -> Result<(), DriftError> {
        let ok = self.scale.is_finite()
            && self.scale > 0.0
            && self.qmin < self.qmax
            && (self.qmin..=self.qmax).contains(&self.zero_point);
        if ok {
            return Ok(());
        }
        Err(DriftError::InvalidGrid {
            name: name.into(),
            scale: self.scale,
            zero_point: self.zero_point,
            qmin: self.qmin,
            qmax: self.qmax,
        })
    }

    fn side(&self, x: f32) -> Side {
        let q = (x / self.scale).round_ties_even() + self.zero_point as f32;
        if q < self.qmin as f32 {
            Side::Below
        } else if q > self.qmax as f32 {
            Side::Above
        } else {
            Side::Inside
        }
    }
}

/// One quantized activation and the values it took on both data sets.
#[derive(Debug, Clone, Copy)]
pub struct QuantizedActivation<'a> {
    /// Activation (tensor) name.
    pub name: &'a str,
    /// Its `QuantizeLinear` grid.
    pub grid: QuantGrid,
    /// Values observed on the reference (calibration) data.
    pub reference: &'a [f32],
    /// Values observed on the current data.
    pub current: &'a [f32],
}

/// Clip rates of one quantized activation; `min`/`max` in the row are [`QuantGrid::range`].
pub fn quantized_clip_rate(
    act: &QuantizedActivation<'_>,
    t: &ClipThresholds,
) -> Result<ClipRate, DriftError> {
    let name = act.name;
    act.grid.validate(name)?;
    let side = |x| act.grid.side(x);
    let reference = count_sides(&format!("reference {name}"), act.reference, side)?;
    let current = count_sides(&format!("current {name}"), act.current, side)?;
    Ok(clip_row(
        name,
        act.grid.range(),
        (reference, act.reference.len()),
        (current, act.current.len()),
        t,
    ))
}

/// Clip rates of several quantized activations, in order; errors on a repeated name.
pub fn quantized_clip_rates(
    acts: &[QuantizedActivation<'_>],
    t: &ClipThresholds,
) -> Result<Vec<ClipRate>, DriftError> {
    let mut out: Vec<ClipRate> = Vec::with_capacity(acts.len());
    for act in acts {
        if out.iter().any(|c| c.name == act.name) {
            return Err(DriftError::Duplicate {
                name: act.name.into(),
            });
        }
        out.push(quantized_clip_rate(act, t)?);
    }
    Ok(out)
}
