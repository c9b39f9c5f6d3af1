//! Real input data for a model: tensors keyed by input name, and for each input the axis that
//! indexes samples (its batch axis).
//!
//! The batch axis of an input is its leading dim when that dim is symbolic; else a dim named
//! like another input's symbolic leading dim (a recurrent state `[2, batch, 128]` next to an
//! input `[batch, 576]` is batched on axis 1). When no input has a free batch, the first input's
//! fixed leading dim is the model's fixed batch, shared by every input that starts with it.
//! Inputs without a batch axis (a scalar sample rate, a fixed-size state) are fed whole at
//! every batch size.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::error::ModelError;
use crate::graph::{Dim, Graph};
use crate::tensor::TensorData;

/// Which axis of each input indexes samples, and whether the batch size is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchLayout {
    /// Batch axis by input name; `None`: the input is the same for every batch size.
    pub axes: BTreeMap<String, Option<usize>>,
    /// The one batch size the model takes, and the input that fixes it.
    pub fixed: Option<(usize, String)>,
}

impl BatchLayout {
    /// The layout of `graph`'s inputs (see the module docs).
    pub fn of(graph: &Graph) -> Self {
        let leading: HashSet<&str> = graph
            .inputs
            .iter()
            .filter_map(|i| match i.shape.as_deref()?.first()? {
                Dim::Symbolic(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let mut axes = BTreeMap::new();
        let mut free = false;
        for input in &graph.inputs {
            let axis = match input.shape.as_deref() {
                None => Some(0),
                Some([]) => None,
                Some(dims @ [first, ..]) => match first {
                    Dim::Symbolic(_) | Dim::Unknown => Some(0),
                    Dim::Fixed(_) => dims.iter().position(
                        |d| matches!(d, Dim::Symbolic(s) if leading.contains(s.as_str())),
                    ),
                },
            };
            free |= axis.is_some();
            axes.insert(input.name.clone(), axis);
        }
        if free {
            return Self { axes, fixed: None };
        }
        let first = graph.inputs.iter().find_map(|i| match i.shape.as_deref()? {
            [Dim::Fixed(b), ..] => Some((*b, i.name.clone())),
            _ => None,
        });
        if let Some((b, _)) = &first {
            for input in &graph.inputs {
                if let Some([Dim::Fixed(n), ..]) = input.shape.as_deref()
                    && n == b
                {
                    axes.insert(input.name.clone(), Some(0));
                }
            }
        }
        Self { axes, fixed: first }
    }

    /// Whether the model takes a batch of `batch`; else why not.
    pub fn accepts(&self, batch: usize) -> Result<(), ModelError> {
        match &self.fixed {
            Some((b, input)) if *b != batch => Err(ModelError::FixedBatch {
                input: input.clone(),
                fixed: *b,
                batch,
            }),
            _ => Ok(()),
        }
    }

    /// The batch axis of `input` (`None` when it has none or is unknown).
    pub fn axis(&self, input: &str) -> Option<usize> {
        self.axes.get(input).copied().flatten()
    }
}

/// Input data for a model: every input's tensor, samples along its batch axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    source: String,
    layout: BatchLayout,
    tensors: BTreeMap<String, TensorData>,
    rows: usize,
}

impl Samples {
    /// Matches `tensors` to `graph`'s inputs by name (a single array feeds a single-input model
    /// whatever its key; arrays no input uses are ignored) and checks that the batched inputs
    /// hold the same number of samples. `source` names the data in errors.
    pub fn new(
        graph: &Graph,
        mut tensors: BTreeMap<String, TensorData>,
        source: impl Into<String>,
    ) -> Result<Self, ModelError> {
        let source = source.into();
        let err = |entry: Option<&str>, message: String| ModelError::TensorFile {
            path: source.clone(),
            entry: entry.map(str::to_string),
            message,
        };
        if let ([only], 1) = (graph.inputs.as_slice(), tensors.len())
            && !tensors.contains_key(&only.name)
        {
            let t = tensors.pop_first().expect("one entry").1;
            tensors.insert(only.name.clone(), t);
        }
        let mut matched = BTreeMap::new();
        for input in &graph.inputs {
            let t = tensors.remove(&input.name).ok_or_else(|| {
                let keys: Vec<&str> = tensors.keys().map(String::as_str).collect();
                err(
                    None,
                    format!(
                        "no array for the model input `{}` {} (arrays: {})",
                        input.name,
                        input.shape_string(),
                        if keys.is_empty() {
                            "none left".to_string()
                        } else {
                            keys.join(", ")
                        }
                    ),
                )
            })?;
            matched.insert(input.name.clone(), t);
        }
        let mut layout = BatchLayout::of(graph);
        for (name, axis) in layout.axes.iter_mut() {
            if axis.is_some_and(|a| a >= matched[name].shape.len()) {
                *axis = None;
            }
        }
        let mut rows: Option<(usize, &str)> = None;
        for (name, t) in &matched {
            let Some(axis) = layout.axis(name) else {
                continue;
            };
            let n = t.shape[axis];
            match rows {
                None => rows = Some((n, name)),
                Some((m, other)) if m != n => {
                    return Err(err(
                        Some(name),
                        format!(
                            "{n} sample(s) along axis {axis} (shape {:?}), but `{other}` has {m}",
                            t.shape
                        ),
                    ));
                }
                _ => {}
            }
        }
        let rows = rows.map_or(1, |r| r.0);
        if rows == 0 {
            return Err(err(None, "holds no samples".into()));
        }
        Ok(Self {
            source,
            layout,
            tensors: matched,
            rows,
        })
    }

    /// Reads an NPY/NPZ file (see [`crate::read_tensors`]) for `graph`'s inputs.
    pub fn read(graph: &Graph, path: &Path) -> Result<Self, ModelError> {
        Self::new(
            graph,
            crate::read_tensors(path)?,
            path.display().to_string(),
        )
    }

    /// Where the data came from (file name).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Samples held.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The tensors, by input name, as given.
    pub fn tensors(&self) -> &BTreeMap<String, TensorData> {
        &self.tensors
    }

    /// The batch axes.
    pub fn layout(&self) -> &BatchLayout {
        &self.layout
    }

    /// The inputs for the samples `rows` (in that order; indices past the end wrap around),
    /// unbatched inputs whole.
    pub fn take(&self, rows: &[usize]) -> Result<BTreeMap<String, TensorData>, ModelError> {
        let wrapped: Vec<usize> = rows.iter().map(|r| r % self.rows).collect();
        self.tensors
            .iter()
            .map(|(name, t)| {
                let t = match self.layout.axis(name) {
                    Some(axis) => {
                        take_rows(t, axis, &wrapped).map_err(|e| ModelError::TensorFile {
                            path: self.source.clone(),
                            entry: Some(name.clone()),
                            message: e.to_string(),
                        })?
                    }
                    None => t.clone(),
                };
                Ok((name.clone(), t))
            })
            .collect()
    }

    /// A batch of `n` samples starting at sample `start`, cycling through the data.
    pub fn cycled(
        &self,
        start: usize,
        n: usize,
    ) -> Result<BTreeMap<String, TensorData>, ModelError> {
        let rows: Vec<usize> = (start..start + n).collect();
        self.take(&rows)
    }
}

/// The slices `rows` of `t` along `axis`, stacked in that order.
pub fn take_rows(t: &TensorData, axis: usize, rows: &[usize]) -> Result<TensorData, ModelError> {
    let dim = *t.shape.get(axis).ok_or_else(|| ModelError::NoAxis {
        shape: t.shape.clone(),
        axis,
    })?;
    if let Some(&row) = rows.iter().find(|&&r| r >= dim) {
        return Err(ModelError::SampleOutOfRange { row, dim, axis });
    }
    let outer: usize = t.shape[..axis].iter().product();
    let inner: usize = t.shape[axis + 1..].iter().product();
    let runs: Vec<(usize, usize)> = (0..outer)
        .flat_map(|o| rows.iter().map(move |&r| ((o * dim + r) * inner, inner)))
        .collect();
    let data = t.data.runs(&runs).ok_or_else(|| ModelError::DataMismatch {
        shape: t.shape.clone(),
    })?;
    let mut shape = t.shape.clone();
    shape[axis] = rows.len();
    TensorData::new(shape, data)
}

/// Rows `start..end` along axis 0.
pub fn slice_rows(t: &TensorData, start: usize, end: usize) -> Result<TensorData, ModelError> {
    let rows = *t.shape.first().ok_or(ModelError::ScalarRows)?;
    if start > end || end > rows {
        return Err(ModelError::RowsOutOfRange { start, end, rows });
    }
    take_rows(t, 0, &(start..end).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ValueInfo;

    fn input(name: &str, dims: &[Dim]) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            dtype: None,
            shape: Some(dims.to_vec()),
        }
    }

    fn graph(inputs: Vec<ValueInfo>) -> Graph {
        Graph {
            inputs,
            ..Graph::default()
        }
    }

    fn sym(s: &str) -> Dim {
        Dim::Symbolic(s.into())
    }

    #[test]
    fn a_state_follows_the_batch_on_its_named_axis_and_a_scalar_is_unbatched() {
        let g = graph(vec![
            input("input", &[sym("batch"), sym("sequence")]),
            input("state", &[Dim::Fixed(2), sym("batch"), Dim::Fixed(3)]),
            input("sr", &[]),
        ]);
        let layout = BatchLayout::of(&g);
        assert_eq!(layout.axis("input"), Some(0));
        assert_eq!(layout.axis("state"), Some(1));
        assert_eq!(layout.axis("sr"), None);
        assert!(layout.fixed.is_none());
        assert!(layout.accepts(7).is_ok());

        let state: Vec<f32> = (0..12).map(|x| x as f32).collect();
        let data = BTreeMap::from([
            (
                "input".to_string(),
                TensorData::from_f32(vec![2, 2], vec![0.0, 1.0, 2.0, 3.0]),
            ),
            (
                "state".to_string(),
                TensorData::from_f32(vec![2, 2, 3], state),
            ),
            ("sr".to_string(), TensorData::from_i64(vec![], vec![16000])),
        ]);
        let s = Samples::new(&g, data, "d.npz").unwrap();
        assert_eq!(s.rows(), 2);
        let b = s.cycled(1, 3).unwrap();
        assert_eq!(b["input"].shape, vec![3, 2]);
        assert_eq!(
            b["input"].as_f32().unwrap(),
            &[2.0, 3.0, 0.0, 1.0, 2.0, 3.0]
        );
        // state[l, r, :] = 6l + 3r + [0, 1, 2]; rows 1, 0, 1 for each l.
        assert_eq!(b["state"].shape, vec![2, 3, 3]);
        assert_eq!(
            b["state"].as_f32().unwrap(),
            &[
                3.0, 4.0, 5.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 10.0, 11.0, 6.0, 7.0, 8.0, 9.0,
                10.0, 11.0
            ]
        );
        assert_eq!(b["sr"], TensorData::from_i64(vec![], vec![16000]));
    }

    #[test]
    fn a_fixed_leading_dim_fixes_the_batch() {
        let g = graph(vec![
            input("audio", &[Dim::Fixed(1), Dim::Fixed(4)]),
            input("h", &[Dim::Fixed(2), Dim::Fixed(1), Dim::Fixed(3)]),
        ]);
        let layout = BatchLayout::of(&g);
        assert_eq!(layout.fixed, Some((1, "audio".to_string())));
        assert_eq!(layout.axis("audio"), Some(0));
        assert_eq!(layout.axis("h"), None);
        let reason = layout.accepts(8).unwrap_err().to_string();
        assert!(
            reason.contains("`audio`") && reason.contains("fixed batch of 1"),
            "{reason}"
        );
    }

    #[test]
    fn mismatched_and_missing_arrays_are_named() {
        let g = graph(vec![
            input("x", &[sym("b"), Dim::Fixed(1)]),
            input("m", &[sym("b"), Dim::Fixed(1)]),
        ]);
        let x = TensorData::from_f32(vec![2, 1], vec![0.0, 1.0]);
        let m = TensorData::from_f32(vec![3, 1], vec![0.0, 1.0, 2.0]);
        let e = Samples::new(&g, BTreeMap::from([("x".to_string(), x.clone())]), "d.npz")
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.npz") && e.contains("`m`"), "{e}");
        let both = BTreeMap::from([("x".to_string(), x), ("m".to_string(), m)]);
        let e = Samples::new(&g, both, "d.npz").unwrap_err().to_string();
        assert!(
            e.contains("entry `x`: 2 sample(s)") && e.contains("`m` has 3"),
            "{e}"
        );
    }

    #[test]
    fn a_single_array_feeds_a_single_input_whatever_its_key() {
        let g = graph(vec![input("x", &[sym("n")])]);
        let data = BTreeMap::from([(
            "arr_0".to_string(),
            TensorData::from_f32(vec![3], vec![1.0, 2.0, 3.0]),
        )]);
        let s = Samples::new(&g, data, "d.npy").unwrap();
        assert_eq!(s.rows(), 3);
        assert_eq!(s.take(&[2, 0]).unwrap()["x"].as_f32().unwrap(), &[3.0, 1.0]);
    }

    #[test]
    fn slicing_rows() {
        let t = TensorData::from_f32(vec![3, 2], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let s = slice_rows(&t, 1, 3).unwrap();
        assert_eq!(s.shape, vec![2, 2]);
        assert_eq!(s.as_f32().unwrap(), &[2.0, 3.0, 4.0, 5.0]);
        assert!(slice_rows(&t, 2, 4).is_err());
        assert!(take_rows(&t, 2, &[0]).is_err());
    }
}
