//! Per-op-type time of a float model against its quantized version, on the same inputs.

use std::collections::{BTreeMap, HashMap};

use burnish_model::{Model, TensorData};
use burnish_runtime::profile::profile;
use burnish_runtime::{Session, SessionOptions};
use serde::Serialize;

use crate::AccuracyError;

/// One op type's time in both models.
#[derive(Debug, Clone, Serialize)]
pub struct OpTimes {
    /// Op type.
    pub op_type: String,
    /// Nodes and ms per run in the baseline (0 when absent).
    pub baseline_calls: usize,
    /// Mean ms per run in the baseline.
    pub baseline_ms: f64,
    /// Nodes in the quantized model.
    pub quantized_calls: usize,
    /// Mean ms per run in the quantized model.
    pub quantized_ms: f64,
}

/// Both profiles side by side.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileComparison {
    /// Runs averaged per model.
    pub runs: usize,
    /// Total node time per run, baseline, ms.
    pub baseline_ms: f64,
    /// Total node time per run, quantized, ms.
    pub quantized_ms: f64,
    /// Per op type, slowest (in either model) first.
    pub ops: Vec<OpTimes>,
}

/// Profiles both models (`runs` timed runs after a warm-up each) on `inputs`.
pub fn compare_profiles(
    baseline: &Model,
    quantized: &Model,
    inputs: &BTreeMap<String, TensorData>,
    runs: usize,
    threads: Option<usize>,
) -> Result<ProfileComparison, AccuracyError> {
    let one = |m: &Model, what: &str| {
        let session = Session::new(m, SessionOptions::threads(threads)).map_err(
            AccuracyError::runtime(format!("compiling the {what} model")),
        )?;
        let values = session
            .prepare_inputs(inputs)
            .map_err(AccuracyError::runtime(format!(
                "inputs of the {what} model"
            )))?;
        profile(m, &session, &values, runs).map_err(AccuracyError::runtime(format!(
            "profiling the {what} model"
        )))
    };
    let (b, q) = (one(baseline, "baseline")?, one(quantized, "quantized")?);
    let mut rows: HashMap<String, OpTimes> = HashMap::new();
    for o in &b.ops {
        let r = rows
            .entry(o.op_type.clone())
            .or_insert_with(|| empty(&o.op_type));
        r.baseline_calls = o.calls;
        r.baseline_ms = o.self_ms;
    }
    for o in &q.ops {
        let r = rows
            .entry(o.op_type.clone())
            .or_insert_with(|| empty(&o.op_type));
        r.quantized_calls = o.calls;
        r.quantized_ms = o.self_ms;
    }
    let mut ops: Vec<OpTimes> = rows.into_values().collect();
    ops.sort_by(|x, y| {
        y.baseline_ms
            .max(y.quantized_ms)
            .total_cmp(&x.baseline_ms.max(x.quantized_ms))
    });
    Ok(ProfileComparison {
        runs: b.runs,
        baseline_ms: b.total_ms,
        quantized_ms: q.total_ms,
        ops,
    })
}

fn empty(op: &str) -> OpTimes {
    OpTimes {
        op_type: op.to_string(),
        baseline_calls: 0,
        baseline_ms: 0.0,
        quantized_calls: 0,
        quantized_ms: 0.0,
    }
}
