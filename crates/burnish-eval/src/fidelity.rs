//! Fidelity: a model's outputs against a reference's on the same inputs, per output
//! ([`fidelity`], [`compare_models`]) and summarized over outputs and batches ([`Agreement`]).
//! The statistics are [`burnish_stats::Fidelity`].

use std::collections::BTreeMap;

use burnish_model::compare::{Diff, diff};
use burnish_model::{Model, TensorData};
use burnish_runtime::{Session, SessionOptions};
use burnish_stats::{Fidelity, FidelitySum};
use serde::Serialize;

use crate::EvalError;

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

/// Compares `actual` with `reference`; `Err` explains a shape, type or content mismatch.
/// Outputs whose last dimension is 2 or more are read as class scores for the top-1 agreement.
pub fn fidelity(actual: &TensorData, reference: &TensorData) -> Result<Fidelity, EvalError> {
    diff(actual, reference).map_err(|e| EvalError::Model(e.to_string()))?;
    let values = |t: &TensorData| {
        t.to_f64_vec()
            .ok_or_else(|| EvalError::Model("string tensors cannot be compared".into()))
    };
    let classes = (!reference.shape.is_empty()).then(|| reference.shape[reference.shape.len() - 1]);
    Ok(Fidelity::of(&values(actual)?, &values(reference)?, classes))
}

/// Runs both models on `inputs` and compares every output of `original` by name.
pub fn compare_models(
    original: &Model,
    optimized: &Model,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<Vec<OutputDiff>, EvalError> {
    let run = |m: &Model, what: &str| -> Result<BTreeMap<String, TensorData>, EvalError> {
        let context = format!("running the {what} model");
        Session::new(m, SessionOptions::default())
            .map_err(EvalError::runtime(context.clone()))?
            .run(inputs)
            .map_err(EvalError::runtime(context))
    };
    let want = run(original, "original")?;
    let got = run(optimized, "optimized")?;
    want.iter()
        .map(|(name, w)| {
            let mismatch =
                |message: String| EvalError::Model(format!("output `{name}`: {message}"));
            let g = got
                .get(name)
                .ok_or_else(|| mismatch("missing from the optimized model".into()))?;
            Ok(OutputDiff {
                name: name.clone(),
                diff: diff(g, w).map_err(|e| mismatch(e.to_string()))?,
                metrics: fidelity(g, w).map_err(|e| mismatch(e.to_string()))?,
            })
        })
        .collect()
}

/// Output agreement of `candidate` with `reference` over every output of `reference` as one
/// summary (see [`Agreement`]). `order` lists the output names in graph order.
pub fn agreement(
    order: &[&str],
    reference: &BTreeMap<String, TensorData>,
    candidate: &BTreeMap<String, TensorData>,
) -> Result<Fidelity, EvalError> {
    let mut a = Agreement::default();
    a.add(order, reference, candidate)?;
    Ok(a.summary())
}

/// [`fidelity`] accumulated over outputs and runs (batches of samples), summarized as if they
/// were one ([`FidelitySum`]): worst cases over all, means and the top-1 agreement of the first
/// output with classes weighted by elements.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    sum: FidelitySum,
}

impl Agreement {
    /// Adds one run's outputs, in the order of `order`.
    pub fn add(
        &mut self,
        order: &[&str],
        reference: &BTreeMap<String, TensorData>,
        candidate: &BTreeMap<String, TensorData>,
    ) -> Result<(), EvalError> {
        for name in order {
            let Some(r) = reference.get(*name) else {
                continue;
            };
            let c = candidate
                .get(*name)
                .ok_or_else(|| EvalError::Model(format!("output `{name}` is missing")))?;
            let f =
                fidelity(c, r).map_err(|e| EvalError::Model(format!("output `{name}`: {e}")))?;
            self.sum.add(name, &f);
        }
        Ok(())
    }

    /// The summary of everything added.
    pub fn summary(&self) -> Fidelity {
        self.sum.summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: Vec<usize>, v: &[f32]) -> TensorData {
        TensorData::from_f32(shape, v.to_vec())
    }

    #[test]
    fn tensors_compare_by_shape_and_read_the_last_axis_as_classes() {
        let r = t(vec![2, 2], &[1.0, 0.0, 0.0, 1.0]);
        let a = t(vec![2, 2], &[1.0, 0.0, 1.0, 0.0]);
        assert_eq!(fidelity(&a, &r).unwrap().top1_agreement, Some(0.5));
        assert_eq!(
            fidelity(&t(vec![3, 1], &[0.0; 3]), &t(vec![3, 1], &[0.0; 3]))
                .unwrap()
                .top1_agreement,
            None
        );
        assert!(fidelity(&t(vec![1, 2], &[1.0, 2.0]), &t(vec![2], &[1.0, 2.0])).is_err());
    }

    #[test]
    fn outputs_are_summarized_worst_case() {
        // y ([2, 1], no classes): reference [3, 4], candidate [3, 3]: max abs 1, SNR 10 log10(25).
        // z: identical, class scores (2 rows of 2): top-1 agreement 1.
        let r = BTreeMap::from([
            ("y".to_string(), t(vec![2, 1], &[3.0, 4.0])),
            ("z".to_string(), t(vec![2, 2], &[1.0, 0.0, 0.0, 1.0])),
        ]);
        let mut c = r.clone();
        c.insert("y".into(), t(vec![2, 1], &[3.0, 3.0]));
        let f = agreement(&["y", "z"], &r, &c).unwrap();
        assert_eq!(f.max_abs, 1.0);
        assert_eq!(f.mean_abs, 1.0 / 6.0);
        assert!((f.snr_db.unwrap() - 10.0 * 25f64.log10()).abs() < 1e-12);
        assert!((f.cosine - 21.0 / (5.0 * 18f64.sqrt())).abs() < 1e-12);
        assert_eq!(f.top1_agreement, Some(1.0));
        let same = agreement(&["y", "z"], &r, &r).unwrap();
        assert_eq!((same.max_abs, same.snr_db), (0.0, None));
        c.remove("z");
        assert!(agreement(&["y", "z"], &r, &c).is_err());
    }
}
