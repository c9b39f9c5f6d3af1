//! How closely a variant follows the baseline: output agreement on the same inputs, and
//! top-1 accuracy on labeled data.

use std::collections::BTreeMap;
use std::path::Path;

use burnish_model::samples::slice_rows;
use burnish_model::{Buffer, TensorData};
use burnish_optimizer::fidelity::{argmax, fidelity};
use burnish_report::Fidelity;
use burnish_runtime::Session;

use crate::error::PipelineError;

/// Output agreement of `candidate` with `reference` over every output of `reference`
/// (compared with [`burnish_optimizer::fidelity::fidelity`]) as one summary: the largest
/// max-abs error, the element-weighted mean-abs error, the lowest cosine and SNR, and the
/// top-1 agreement of the first output that looks like class scores. `order` lists the
/// output names in graph order.
pub fn agreement(
    order: &[&str],
    reference: &BTreeMap<String, TensorData>,
    candidate: &BTreeMap<String, TensorData>,
) -> Result<Fidelity, String> {
    let mut a = Agreement::default();
    a.add(order, reference, candidate)?;
    Ok(a.summary())
}

/// [`agreement`] accumulated over several runs (batches of samples), summarized as if they
/// were one: worst cases over all, means and top-1 agreement weighted by elements.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    max_abs: f64,
    sum_abs: f64,
    count: usize,
    cosine: Option<f64>,
    snr: Option<f64>,
    top1_output: Option<String>,
    top1_hits: f64,
    top1_count: usize,
}

impl Agreement {
    /// Adds one run's outputs.
    pub fn add(
        &mut self,
        order: &[&str],
        reference: &BTreeMap<String, TensorData>,
        candidate: &BTreeMap<String, TensorData>,
    ) -> Result<(), String> {
        for name in order {
            let Some(r) = reference.get(*name) else {
                continue;
            };
            let c = candidate
                .get(*name)
                .ok_or_else(|| format!("output `{name}` is missing"))?;
            let f = fidelity(c, r).map_err(|e| format!("output `{name}`: {e}"))?;
            self.max_abs = self.max_abs.max(f.max_abs);
            self.sum_abs += f.mean_abs * f.count as f64;
            self.count += f.count;
            self.cosine = Some(self.cosine.map_or(f.cosine, |c| c.min(f.cosine)));
            self.snr = Some(self.snr.map_or(f.snr_db, |s| s.min(f.snr_db)));
            if let Some(t) = f.top1_agreement
                && self.top1_output.get_or_insert_with(|| name.to_string()) == name
            {
                self.top1_hits += t * f.count as f64;
                self.top1_count += f.count;
            }
        }
        Ok(())
    }

    /// The summary of everything added.
    pub fn summary(&self) -> Fidelity {
        Fidelity {
            max_abs: self.max_abs,
            mean_abs: if self.count == 0 {
                0.0
            } else {
                self.sum_abs / self.count as f64
            },
            cosine: self.cosine.unwrap_or(1.0),
            snr_db: self.snr.filter(|s| s.is_finite()),
            top1_agreement: (self.top1_count > 0).then(|| self.top1_hits / self.top1_count as f64),
        }
    }
}

fn float_values(t: &TensorData) -> Option<Vec<f64>> {
    match &t.data {
        Buffer::F32(_) | Buffer::F16(_) | Buffer::BF16(_) | Buffer::F64(_) => t.to_f64_vec(),
        _ => None,
    }
}

/// Labeled evaluation data: inputs and integer class labels, samples along axis 0.
#[derive(Debug, Clone)]
pub struct EvalSet {
    /// Model input name to tensor (all inputs of the model).
    pub inputs: BTreeMap<String, TensorData>,
    /// One label per sample.
    pub labels: Vec<i64>,
}

impl EvalSet {
    /// Reads an NPZ holding the inputs and the labels. The input of a single-input model is
    /// the array named like the input, else `input_key` (default `x`); labels are
    /// `labels_key` (default `y`).
    pub fn load(
        path: &Path,
        model_inputs: &[String],
        input_key: Option<&str>,
        labels_key: Option<&str>,
    ) -> Result<Self, PipelineError> {
        let mut arrays = burnish_model::read_tensors(path).map_err(|e| PipelineError::Data {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let labels_key = labels_key.unwrap_or("y");
        let labels = arrays
            .remove(labels_key)
            .ok_or_else(|| PipelineError::data(path, format!("no array `{labels_key}` (labels)")))?
            .to_i64_vec()
            .ok_or_else(|| PipelineError::data(path, format!("`{labels_key}` is not integer")))?;
        let mut inputs = BTreeMap::new();
        if let [only] = model_inputs {
            let key = if arrays.contains_key(only) {
                only.as_str()
            } else {
                input_key.unwrap_or("x")
            };
            let t = arrays.remove(key).ok_or_else(|| {
                PipelineError::data(path, format!("no array `{only}` or `{key}` (inputs)"))
            })?;
            inputs.insert(only.clone(), t);
        } else {
            for name in model_inputs {
                let t = arrays
                    .remove(name)
                    .ok_or_else(|| PipelineError::data(path, format!("no array `{name}`")))?;
                inputs.insert(name.clone(), t);
            }
        }
        for (name, t) in &inputs {
            if t.shape.first() != Some(&labels.len()) {
                return Err(PipelineError::data(
                    path,
                    format!(
                        "`{name}` has shape {:?}; expected {} samples along axis 0 (one per label)",
                        t.shape,
                        labels.len()
                    ),
                ));
            }
        }
        Ok(Self { inputs, labels })
    }

    /// Samples `start..end` of every input.
    pub fn slice(&self, start: usize, end: usize) -> Result<BTreeMap<String, TensorData>, String> {
        self.inputs
            .iter()
            .map(|(k, t)| Ok((k.clone(), slice_rows(t, start, end)?)))
            .collect()
    }

    /// Top-1 accuracy of `session`, run `batch` samples at a time; the logits are the first
    /// output (`[N, classes]`).
    pub fn accuracy(&self, session: &Session, batch: usize) -> Result<f64, String> {
        let n = self.labels.len();
        let mut correct = 0usize;
        let mut start = 0;
        while start < n {
            let end = (start + batch.max(1)).min(n);
            let outputs = session
                .run(&self.slice(start, end)?)
                .map_err(|e| e.to_string())?;
            let first = session
                .output_names()
                .first()
                .and_then(|name| outputs.get(*name))
                .ok_or("the model has no output")?;
            let values = float_values(first).ok_or("the first output is not floating-point")?;
            let rows = end - start;
            if rows == 0 || values.len() % rows != 0 {
                return Err(format!(
                    "first output has shape {:?}; expected {rows} rows of class scores",
                    first.shape
                ));
            }
            correct += values
                .chunks_exact(values.len() / rows)
                .zip(&self.labels[start..end])
                .filter(|(row, label)| argmax(row).is_some_and(|p| p as i64 == **label))
                .count();
            start = end;
        }
        Ok(if n == 0 {
            0.0
        } else {
            correct as f64 / n as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_summarized_worst_case() {
        // y ([2, 1], no classes): reference [3, 4], candidate [3, 3]: max abs 1, SNR 10 log10(25).
        // z: identical, class scores (2 rows of 2): top-1 agreement 1.
        let r = BTreeMap::from([
            (
                "y".to_string(),
                TensorData::from_f32(vec![2, 1], vec![3.0, 4.0]),
            ),
            (
                "z".to_string(),
                TensorData::from_f32(vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]),
            ),
        ]);
        let mut c = r.clone();
        c.insert("y".into(), TensorData::from_f32(vec![2, 1], vec![3.0, 3.0]));
        let f = agreement(&["y", "z"], &r, &c).unwrap();
        assert_eq!(f.max_abs, 1.0);
        assert_eq!(f.mean_abs, 1.0 / 6.0);
        assert!((f.snr_db.unwrap() - 10.0 * 25f64.log10()).abs() < 1e-12);
        assert!((f.cosine - 21.0 / (5.0 * 18f64.sqrt())).abs() < 1e-12);
        assert_eq!(f.top1_agreement, Some(1.0));
        let same = agreement(&["y", "z"], &r, &r).unwrap();
        assert_eq!((same.max_abs, same.snr_db), (0.0, None));
        assert!((same.cosine - 1.0).abs() < 1e-12);
        c.remove("z");
        assert!(agreement(&["y", "z"], &r, &c).is_err());
    }

    #[test]
    fn agreement_over_runs_weights_by_elements_and_keeps_worst_cases() {
        // Run 1: two rows of classes, both agree; run 2: one row that disagrees.
        let r1 = BTreeMap::from([(
            "p".to_string(),
            TensorData::from_f32(vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]),
        )]);
        let c1 = BTreeMap::from([(
            "p".to_string(),
            TensorData::from_f32(vec![2, 2], vec![0.9, 0.1, 0.1, 0.9]),
        )]);
        let r2 = BTreeMap::from([(
            "p".to_string(),
            TensorData::from_f32(vec![1, 2], vec![1.0, 0.0]),
        )]);
        let c2 = BTreeMap::from([(
            "p".to_string(),
            TensorData::from_f32(vec![1, 2], vec![0.0, 1.0]),
        )]);
        let mut a = Agreement::default();
        a.add(&["p"], &r1, &c1).unwrap();
        a.add(&["p"], &r2, &c2).unwrap();
        let f = a.summary();
        assert_eq!(f.top1_agreement, Some(4.0 / 6.0));
        assert_eq!(f.max_abs, 1.0);
        assert!(
            (f.mean_abs - (0.4 + 2.0) / 6.0).abs() < 1e-6,
            "{}",
            f.mean_abs
        );
        assert_eq!(f.cosine, 0.0);
        assert!(!f.follows_reference());
        let one = agreement(&["p"], &r1, &c1).unwrap();
        assert_eq!(one.top1_agreement, Some(1.0));
        assert!((one.cosine - 1.8 / (1.64f64.sqrt() * 2f64.sqrt())).abs() < 1e-6);
    }
}
