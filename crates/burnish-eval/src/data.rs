//! Labeled evaluation data: model inputs from `.npy`/`.npz` files, labels as class indices.

use std::collections::BTreeMap;
use std::path::Path;

use burnish_model::samples::slice_rows;
use burnish_model::{Model, TensorData, read_tensors};

use crate::EvalError;

/// Label keys tried, in order, when an NPZ holds the labels and no key is given.
pub const LABEL_KEYS: [&str; 4] = ["y", "labels", "label", "target"];

/// Where the evaluation data lives.
#[derive(Debug, Clone)]
pub struct DataSpec<'a> {
    /// `.npy` (one input) or `.npz` (keyed by input name, or `data_key`).
    pub data: &'a Path,
    /// The array of `data` that feeds the model's only input (default: the input's name, or
    /// the archive's only non-label array).
    pub data_key: Option<&'a str>,
    /// Labels file; `None` reads them from `data`.
    pub labels: Option<&'a Path>,
    /// The labels array (default: the file's only array, or one of [`LABEL_KEYS`]).
    pub labels_key: Option<&'a str>,
}

/// Samples (first dimension of every input) with one class index each.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Model input name -> `[N, ...]` tensor.
    pub inputs: BTreeMap<String, TensorData>,
    /// Class index of every sample.
    pub labels: Vec<usize>,
    /// Where it came from, for messages.
    pub source: String,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True without samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Samples `start..end` of every input (rows are copied); an error names the data source.
    pub fn rows(
        &self,
        start: usize,
        end: usize,
    ) -> Result<BTreeMap<String, TensorData>, EvalError> {
        self.inputs
            .iter()
            .map(|(name, t)| {
                let rows = slice_rows(t, start, end)
                    .map_err(|m| EvalError::data(&self.source, format!("`{name}`: {m}")))?;
                Ok((name.clone(), rows))
            })
            .collect()
    }
}

fn pick<'m>(
    arrays: &'m BTreeMap<String, TensorData>,
    key: Option<&str>,
    defaults: &[&str],
    path: &str,
    what: &str,
) -> Result<(String, &'m TensorData), EvalError> {
    let keys = || arrays.keys().cloned().collect::<Vec<_>>().join(", ");
    if let Some(k) = key {
        return arrays
            .get_key_value(k)
            .map(|(k, v)| (k.clone(), v))
            .ok_or_else(|| {
                EvalError::data(
                    path,
                    format!("no array `{k}` for the {what} (it has: {})", keys()),
                )
            });
    }
    if let (1, Some((k, v))) = (arrays.len(), arrays.iter().next()) {
        return Ok((k.clone(), v));
    }
    defaults
        .iter()
        .find_map(|d| arrays.get_key_value(*d))
        .map(|(k, v)| (k.clone(), v))
        .ok_or_else(|| {
            EvalError::data(
                path,
                format!("cannot tell which array holds the {what} (it has: {}); name it with a key option", keys()),
            )
        })
}

/// Class indices from integer labels `[N]` / `[N, 1]` (floats must hold whole numbers).
pub fn labels_from(t: &TensorData, path: &str) -> Result<Vec<usize>, EvalError> {
    let rows = t.shape.first().copied().unwrap_or(0);
    if t.shape.is_empty() || t.len() != rows {
        return Err(EvalError::data(
            path,
            format!(
                "labels must have shape [N] or [N, 1] (class indices), got {:?}",
                t.shape
            ),
        ));
    }
    let values = t
        .to_f64_vec()
        .ok_or_else(|| EvalError::data(path, "labels are strings, expected class indices"))?;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64 {
                Ok(v as usize)
            } else {
                Err(EvalError::data(
                    path,
                    format!("label {i} is {v}, not a class index"),
                ))
            }
        })
        .collect()
}

/// Loads a labeled data set for `model`.
///
/// Every model input must be fed: an NPZ holding arrays named like all the inputs feeds them
/// by name; otherwise the model must have one input, fed by `data_key`, the archive's only
/// non-label array, or the `.npy` file. All inputs and the labels must have the same number
/// of rows.
pub fn load_dataset(model: &Model, spec: &DataSpec) -> Result<Dataset, EvalError> {
    let data_path = spec.data.display().to_string();
    let arrays = read_tensors(spec.data)?;
    let label_arrays = match spec.labels {
        Some(p) => Some(read_tensors(p)?),
        None => None,
    };
    let labels_path = spec
        .labels
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| data_path.clone());
    let (label_key, label_tensor) = pick(
        label_arrays.as_ref().unwrap_or(&arrays),
        spec.labels_key,
        &LABEL_KEYS,
        &labels_path,
        "labels",
    )?;
    let labels = labels_from(label_tensor, &labels_path)?;
    let names: Vec<&str> = model.graph.inputs.iter().map(|i| i.name.as_str()).collect();
    let mut inputs = BTreeMap::new();
    if spec.data_key.is_none() && names.iter().all(|n| arrays.contains_key(*n)) {
        for n in &names {
            inputs.insert(n.to_string(), arrays[*n].clone());
        }
    } else {
        let [name] = names.as_slice() else {
            return Err(EvalError::data(
                &data_path,
                format!(
                    "the model has {} inputs ({}); the archive must hold one array per input name",
                    names.len(),
                    names.join(", ")
                ),
            ));
        };
        let mut candidates = arrays.clone();
        if label_arrays.is_none() {
            candidates.remove(&label_key);
        }
        let (_, t) = pick(
            &candidates,
            spec.data_key,
            &[name],
            &data_path,
            "model input",
        )?;
        inputs.insert(name.to_string(), t.clone());
    }
    for (name, t) in &inputs {
        if t.shape.first() != Some(&labels.len()) {
            return Err(EvalError::data(
                &data_path,
                format!(
                    "input `{name}` has shape {:?}, expected {} rows like the labels",
                    t.shape,
                    labels.len()
                ),
            ));
        }
    }
    Ok(Dataset {
        inputs,
        labels,
        source: data_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_accept_indices_and_reject_others() {
        let ok = TensorData::from_f32(vec![3, 1], vec![0.0, 2.0, 9.0]);
        assert_eq!(labels_from(&ok, "l").unwrap(), vec![0, 2, 9]);
        let frac = TensorData::from_f32(vec![2], vec![0.5, 1.0]);
        assert!(
            labels_from(&frac, "l")
                .unwrap_err()
                .to_string()
                .contains("label 0 is 0.5")
        );
        let one_hot = TensorData::from_f32(vec![1, 2], vec![0.0, 1.0]);
        assert!(labels_from(&one_hot, "l").is_err());
        let neg = TensorData::from_i64(vec![1], vec![-1]);
        assert!(labels_from(&neg, "l").is_err());
    }
}
