//! Fidelity check: the optimized model against the original on the same inputs.
//!
//! Every output is compared element-wise ([`Fidelity`]): max and mean absolute error, cosine
//! similarity, signal-to-noise ratio in dB, and, for outputs that look like class scores (last
//! dimension of 2 or more), the share of rows whose arg-max (top-1) is the same.

use std::collections::{BTreeMap, HashMap};

use burnish_model::compare::{Diff, diff};
use burnish_model::{Model, TensorData, synth};
use burnish_runtime::{Session, SessionOptions};
use serde::Serialize;

use crate::OptError;

/// The difference of one output.
#[derive(Debug, Clone, Serialize)]
pub struct OutputDiff {
    /// Output name.
    pub name: String,
    /// Max absolute and relative difference (see [`burnish_model::compare::diff`]).
    pub diff: Diff,
    /// Error statistics over all elements.
    pub metrics: Fidelity,
}

/// How closely an output follows its reference.
///
/// Infinite values (an exact match has an infinite SNR) are written as `null` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fidelity {
    /// Largest absolute difference.
    pub max_abs: f64,
    /// Mean absolute difference.
    pub mean_abs: f64,
    /// Cosine similarity of the two tensors as flat vectors (1 when both are all zeros).
    pub cosine: f64,
    /// `10 log10(sum ref^2 / sum (actual - ref)^2)`; infinite for an exact match.
    pub snr_db: f64,
    /// Share of rows (over the last axis) with the same arg-max; `None` when the last
    /// dimension is below 2 or the tensor is a scalar.
    pub top1_agreement: Option<f64>,
    /// Elements compared.
    pub count: usize,
}

/// Compares `actual` with `reference`; `Err` explains a shape, type or content mismatch.
///
/// NaN against NaN counts as equal; any other non-finite mismatch is an infinite error.
pub fn fidelity(actual: &TensorData, reference: &TensorData) -> Result<Fidelity, String> {
    diff(actual, reference)?;
    let a = actual
        .to_f64_vec()
        .ok_or("string tensors cannot be compared")?;
    let r = reference
        .to_f64_vec()
        .ok_or("string tensors cannot be compared")?;
    let (mut max_abs, mut sum_abs, mut signal, mut noise) = (0f64, 0f64, 0f64, 0f64);
    let (mut dot, mut norm_a, mut norm_r) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(&r) {
        let d = if x == y || (x.is_nan() && y.is_nan()) {
            0.0
        } else if !x.is_finite() || !y.is_finite() {
            f64::INFINITY
        } else {
            (x - y).abs()
        };
        max_abs = max_abs.max(d);
        sum_abs += d;
        noise += d * d;
        if y.is_finite() {
            signal += y * y;
        }
        if x.is_finite() && y.is_finite() {
            dot += x * y;
            norm_a += x * x;
            norm_r += y * y;
        }
    }
    let cosine = match (norm_a > 0.0, norm_r > 0.0) {
        (false, false) => 1.0,
        (true, true) => (dot / (norm_a.sqrt() * norm_r.sqrt())).clamp(-1.0, 1.0),
        _ => 0.0,
    };
    let snr_db = if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (signal / noise).log10()
    };
    Ok(Fidelity {
        max_abs,
        mean_abs: if a.is_empty() {
            0.0
        } else {
            sum_abs / a.len() as f64
        },
        cosine,
        snr_db,
        top1_agreement: top1_agreement(&a, &r, &reference.shape),
        count: a.len(),
    })
}

/// Index of the largest finite value of `row` (the first one on ties); `None` if there is none.
pub fn argmax(row: &[f64]) -> Option<usize> {
    row.iter()
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

fn top1_agreement(a: &[f64], r: &[f64], shape: &[usize]) -> Option<f64> {
    let classes = *shape.last()?;
    if classes < 2 || a.is_empty() {
        return None;
    }
    let rows = a.len() / classes;
    let same = a
        .chunks_exact(classes)
        .zip(r.chunks_exact(classes))
        .filter(|(x, y)| argmax(x) == argmax(y))
        .count();
    Some(same as f64 / rows as f64)
}

/// Seeded random inputs for `model` (symbolic dims: 2).
pub fn seeded_inputs(model: &Model, seed: u64) -> Result<BTreeMap<String, TensorData>, OptError> {
    let dims: HashMap<String, usize> = model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
        .filter_map(|d| match d {
            burnish_model::Dim::Symbolic(s) => Some((s.clone(), 2)),
            _ => None,
        })
        .collect();
    Ok(synth::random_inputs(&model.graph, &dims, seed)?)
}

/// Seeded random inputs for `model` sized by `spec` (symbolic dims it does not set: 2,
/// an unnamed leading dim: the `batch` it sets, else 2; an unnamed dim elsewhere without a
/// `--shape`: an error that says how to set it).
pub fn seeded_inputs_for(
    model: &Model,
    spec: &synth::ShapeSpec,
    seed: u64,
) -> Result<BTreeMap<String, TensorData>, OptError> {
    let mut spec = spec.clone();
    for d in model
        .graph
        .inputs
        .iter()
        .flat_map(|i| i.shape.iter().flatten())
    {
        if let burnish_model::Dim::Symbolic(s) = d {
            spec.dims.entry(s.clone()).or_insert(2);
        }
    }
    spec.dims.entry("batch".into()).or_insert(2);
    Ok(synth::random_inputs_for(&model.graph, &spec, seed)?)
}

/// Runs both models on `inputs` and compares every output of `original` by name.
pub fn compare_models(
    original: &Model,
    optimized: &Model,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<Vec<OutputDiff>, OptError> {
    let run = |m: &Model, what: &str| -> Result<BTreeMap<String, TensorData>, OptError> {
        let rt = |source| OptError::Runtime {
            context: format!("running the {what} model"),
            source,
        };
        Session::new(m, SessionOptions::default())
            .map_err(rt)?
            .run(inputs)
            .map_err(rt)
    };
    let want = run(original, "original")?;
    let got = run(optimized, "optimized")?;
    want.iter()
        .map(|(name, w)| {
            let mismatch = |message: String| OptError::Verify {
                pass: "fidelity".into(),
                message: format!("output `{name}`: {message}"),
            };
            let g = got
                .get(name)
                .ok_or_else(|| mismatch("missing from the optimized model".into()))?;
            Ok(OutputDiff {
                name: name.clone(),
                diff: diff(g, w).map_err(mismatch)?,
                metrics: fidelity(g, w).map_err(mismatch)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: Vec<usize>, v: &[f32]) -> TensorData {
        TensorData::from_f32(shape, v.to_vec())
    }

    #[test]
    fn exact_match_has_infinite_snr_and_unit_cosine() {
        let x = t(vec![2, 3], &[1.0, -2.0, 3.0, 0.5, 0.0, -1.0]);
        let f = fidelity(&x, &x).unwrap();
        assert_eq!((f.max_abs, f.mean_abs, f.cosine), (0.0, 0.0, 1.0));
        assert!(f.snr_db.is_infinite() && f.snr_db > 0.0);
        assert_eq!(f.top1_agreement, Some(1.0));
    }

    #[test]
    fn closed_form_errors() {
        // reference [3, 4]: signal 25; actual [3, 5]: noise 1 -> SNR 10 log10(25) dB.
        let r = t(vec![2], &[3.0, 4.0]);
        let a = t(vec![2], &[3.0, 5.0]);
        let f = fidelity(&a, &r).unwrap();
        assert_eq!(f.max_abs, 1.0);
        assert_eq!(f.mean_abs, 0.5);
        assert!((f.snr_db - 10.0 * 25f64.log10()).abs() < 1e-12);
        let cos = (9.0 + 20.0) / (5.0 * 34f64.sqrt());
        assert!((f.cosine - cos).abs() < 1e-12);
    }

    #[test]
    fn scaled_output_keeps_cosine_and_argmax() {
        let r = t(vec![2, 2], &[1.0, 2.0, -3.0, 4.0]);
        let a = t(vec![2, 2], &[2.0, 4.0, -6.0, 8.0]);
        let f = fidelity(&a, &r).unwrap();
        assert!((f.cosine - 1.0).abs() < 1e-12);
        // noise equals the signal: 0 dB.
        assert!(f.snr_db.abs() < 1e-12);
        assert_eq!(f.top1_agreement, Some(1.0));
    }

    #[test]
    fn opposite_vectors_and_partial_top1() {
        let r = t(vec![2, 2], &[1.0, 0.0, 0.0, 1.0]);
        let a = t(vec![2, 2], &[-1.0, 0.0, 0.0, -1.0]);
        let f = fidelity(&a, &r).unwrap();
        assert!((f.cosine + 1.0).abs() < 1e-12);
        // row 0: argmax 1 vs 0; row 1: argmax 0 vs 1.
        assert_eq!(f.top1_agreement, Some(0.0));
        let a = t(vec![2, 2], &[1.0, 0.0, 1.0, 0.0]);
        assert_eq!(fidelity(&a, &r).unwrap().top1_agreement, Some(0.5));
    }

    #[test]
    fn top1_needs_two_classes_and_zero_vectors_are_handled() {
        let z = t(vec![3, 1], &[0.0; 3]);
        let f = fidelity(&z, &z).unwrap();
        assert_eq!((f.top1_agreement, f.cosine), (None, 1.0));
        let one = t(vec![3, 1], &[1.0; 3]);
        assert_eq!(fidelity(&one, &z).unwrap().cosine, 0.0);
        assert_eq!(fidelity(&z, &one).unwrap().snr_db, 0.0);
    }

    #[test]
    fn nan_mismatch_is_infinite_and_shape_mismatch_is_an_error() {
        let r = t(vec![2], &[1.0, f32::NAN]);
        let a = t(vec![2], &[1.0, 2.0]);
        assert!(fidelity(&a, &r).unwrap().max_abs.is_infinite());
        assert_eq!(fidelity(&r, &r).unwrap().max_abs, 0.0);
        assert!(fidelity(&t(vec![1, 2], &[1.0, 2.0]), &a).is_err());
    }

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f64::NAN, 0.5]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}
