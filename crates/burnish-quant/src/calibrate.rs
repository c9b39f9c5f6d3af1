//! Calibration: activation statistics gathered by running the float model with the interpreter
//! on calibration samples, batch by batch, with the tensors of interest exposed as extra graph
//! outputs.
//!
//! Two passes over the data: the first records each tensor's minimum and maximum, the second
//! (only for histogram methods) a histogram of |x| over `[0, max |x|]` with [`BINS`] bins.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burnish_model::{DType, Model, Samples, TensorData, read_tensors};
use burnish_runtime::capture::exposing;
use burnish_runtime::{Session, SessionOptions};

use crate::QuantError;

/// Histogram bins of |x|.
pub const BINS: usize = 2048;

/// Calibration samples: model inputs stacked along each input's batch axis
/// ([`burnish_model::BatchLayout`]).
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Where the samples came from (file name, for messages).
    pub source: String,
    /// Inputs by name; axis 0 indexes samples.
    pub inputs: BTreeMap<String, TensorData>,
}

impl Calibration {
    /// Reads an NPZ archive keyed by input names (a single array is accepted for a single-input
    /// model whatever its key).
    pub fn from_npz(path: impl AsRef<Path>) -> Result<Self, QuantError> {
        let path = path.as_ref();
        Ok(Self {
            source: path.display().to_string(),
            inputs: read_tensors(path)?,
        })
    }

    /// Number of samples (size of axis 0).
    pub fn samples(&self) -> usize {
        self.inputs
            .values()
            .next()
            .and_then(|t| t.shape.first().copied())
            .unwrap_or(0)
    }

    /// Refuses float arrays holding NaN or infinite values: their ranges would be meaningless
    /// (and a NaN minimum or maximum makes every scale NaN).
    fn check_finite(&self, input: &str, t: &TensorData) -> Result<(), QuantError> {
        let Some(values) = t.to_f64_vec().filter(|_| t.dtype().is_float()) else {
            return Ok(());
        };
        let nan = values.iter().filter(|v| v.is_nan()).count();
        let inf = values.iter().filter(|v| v.is_infinite()).count();
        if nan + inf == 0 {
            return Ok(());
        }
        Err(self.err(format!(
            "the array for input `{input}` holds {nan} NaN and {inf} infinite values (of {}); \
             calibration needs finite data",
            values.len()
        )))
    }

    fn err(&self, message: impl Into<String>) -> QuantError {
        QuantError::Calibration {
            source_name: self.source.clone(),
            message: message.into(),
        }
    }

    /// The samples split into batches of at most `batch` (a fixed batch dimension wins, and
    /// then only whole batches are used), keyed by the model's input names. Samples lie along
    /// each input's batch axis ([`burnish_model::BatchLayout`]): axis 0, or the axis of a
    /// recurrent state named like the batch; inputs without one (a scalar) go whole into
    /// every batch.
    pub fn batches(
        &self,
        model: &Model,
        batch: usize,
    ) -> Result<Vec<BTreeMap<String, TensorData>>, QuantError> {
        let samples = Samples::new(&model.graph, self.inputs.clone(), self.source.clone())
            .map_err(|e| self.err(e.to_string()))?;
        let n = samples.rows();
        let fixed = samples.layout().fixed.as_ref().map(|f| f.0);
        let step = fixed.unwrap_or(batch).max(1);
        if fixed.is_some() && n < step {
            return Err(self.err(format!("fewer than {step} samples (the fixed batch size)")));
        }
        for (name, t) in &self.inputs {
            self.check_finite(name, t)?;
        }
        let mut out = Vec::new();
        let mut start = 0;
        while start < n && !(fixed.is_some() && start + step > n) {
            let end = (start + step).min(n);
            let rows: Vec<usize> = (start..end).collect();
            out.push(samples.take(&rows).map_err(|e| self.err(e.to_string()))?);
            start = end;
        }
        Ok(out)
    }
}

/// Statistics of one tensor over the calibration set.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorStats {
    /// Smallest value seen.
    pub min: f32,
    /// Largest value seen.
    pub max: f32,
    /// Counts of |x| in [`BINS`] equal bins over `[0, max(|min|, |max|)]`, when gathered.
    pub hist: Vec<u64>,
    /// The element type of the tensor (`None` when it was never produced).
    pub dtype: Option<DType>,
}

impl TensorStats {
    /// The largest magnitude seen.
    pub fn abs_max(&self) -> f32 {
        self.min.abs().max(self.max.abs())
    }
}

/// A session of `model` that also outputs `names`, QDQ nodes (if any) run in float: the
/// statistics are those of the graph as written.
fn probe_session(model: &Model, names: &[String]) -> Result<Session, QuantError> {
    let probe = exposing(model, names).map_err(|source| QuantError::Runtime {
        context: "exposing the calibrated values".into(),
        source,
    })?;
    let options = SessionOptions {
        qdq_int8: false,
        ..SessionOptions::default()
    };
    Session::new(&probe, options).map_err(|source| QuantError::Runtime {
        context: "compiling the model for calibration".into(),
        source,
    })
}

/// The shapes of `names` on the first calibration sample (one inference).
pub fn shapes(
    model: &Model,
    calibration: &Calibration,
    names: &[String],
) -> Result<HashMap<String, Vec<usize>>, QuantError> {
    let session = probe_session(model, names)?;
    let Some(first) = calibration.batches(model, 1)?.into_iter().next() else {
        return Ok(HashMap::new());
    };
    let outs = session.run(&first).map_err(|source| QuantError::Runtime {
        context: format!("running calibration data `{}`", calibration.source),
        source,
    })?;
    Ok(names
        .iter()
        .filter_map(|n| outs.get(n).map(|t| (n.clone(), t.shape.clone())))
        .collect())
}

/// Runs `model` on every calibration batch and gathers [`TensorStats`] for `names` (values
/// produced by nodes or graph inputs). Histograms are gathered only when `histograms` is true.
pub fn observe(
    model: &Model,
    calibration: &Calibration,
    names: &[String],
    batch: usize,
    histograms: bool,
) -> Result<HashMap<String, TensorStats>, QuantError> {
    let session = probe_session(model, names)?;
    let mut batches = calibration.batches(model, batch)?;
    if batches.len() < calibration.samples() && session.run(&batches[0]).is_err() {
        // A graph that only runs at batch 1 (a reshape to a fixed batch): one sample per run.
        batches = calibration.batches(model, 1)?;
    }
    let run = |feed: &BTreeMap<String, TensorData>| {
        session.run(feed).map_err(|source| QuantError::Runtime {
            context: format!("running calibration data `{}`", calibration.source),
            source,
        })
    };
    let values =
        |outs: &BTreeMap<String, TensorData>, name: &str| -> Result<Vec<f32>, QuantError> {
            let t = outs.get(name).ok_or_else(|| QuantError::Calibration {
                source_name: calibration.source.clone(),
                message: format!("value `{name}` was not produced"),
            })?;
            Ok(match t.as_f32() {
                Some(v) => v.to_vec(),
                None => t
                    .to_f64_vec()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|x| x as f32)
                    .collect(),
            })
        };
    let mut stats: HashMap<String, TensorStats> = names
        .iter()
        .map(|n| {
            let s = TensorStats {
                min: f32::INFINITY,
                max: f32::NEG_INFINITY,
                hist: Vec::new(),
                dtype: None,
            };
            (n.clone(), s)
        })
        .collect();
    for feed in &batches {
        let outs = run(feed)?;
        for name in names {
            let s = stats.get_mut(name).expect("inserted above");
            s.dtype = outs.get(name).map(TensorData::dtype);
            for x in values(&outs, name)? {
                if x.is_finite() {
                    s.min = s.min.min(x);
                    s.max = s.max.max(x);
                }
            }
        }
    }
    for s in stats.values_mut() {
        if s.min > s.max {
            (s.min, s.max) = (0.0, 0.0);
        }
    }
    if histograms {
        for s in stats.values_mut() {
            s.hist = vec![0; BINS];
        }
        for feed in &batches {
            let outs = run(feed)?;
            for name in names {
                let s = stats.get_mut(name).expect("inserted above");
                let top = s.abs_max();
                if top <= 0.0 {
                    continue;
                }
                let k = BINS as f32 / top;
                for x in values(&outs, name)? {
                    if x.is_finite() {
                        let b = ((x.abs() * k) as usize).min(BINS - 1);
                        s.hist[b] += 1;
                    }
                }
            }
        }
    }
    Ok(stats)
}
