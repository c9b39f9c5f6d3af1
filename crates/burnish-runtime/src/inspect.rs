//! `burnish inspect`: what a model is, what it costs, and whether burnish can run it.

use std::collections::{BTreeMap, HashMap};

use burnish_model::synth::{random_inputs, resolve_shape};
use burnish_model::{Model, ValueInfo};
use serde::Serialize;

use crate::macs::step_macs;
use crate::session::{SessionOptions, unsupported_ops};

/// A graph input or output as reported.
#[derive(Debug, Clone, Serialize)]
pub struct IoInfo {
    /// Name.
    pub name: String,
    /// Element type (`?` when undeclared).
    pub dtype: String,
    /// Declared shape, symbolic dims by name.
    pub shape: String,
}

/// Everything `inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// Default-domain opset.
    pub opset: i64,
    /// Opset by domain.
    pub opsets: BTreeMap<String, i64>,
    /// ONNX IR version.
    pub ir_version: i64,
    /// Producer name and version.
    pub producer: String,
    /// Graph inputs.
    pub inputs: Vec<IoInfo>,
    /// Graph outputs.
    pub outputs: Vec<IoInfo>,
    /// Number of nodes.
    pub nodes: usize,
    /// Nodes per op type.
    pub op_histogram: BTreeMap<String, usize>,
    /// Parameter elements held in initializers.
    pub parameters: usize,
    /// Parameter bytes.
    pub parameter_bytes: usize,
    /// Ops burnish cannot run, with counts.
    pub unsupported: BTreeMap<String, usize>,
    /// MACs per op type at the concrete shapes in `macs_shapes` (absent when the model cannot
    /// run here).
    pub macs_by_op: Option<BTreeMap<String, u64>>,
    /// Input shapes the MAC counts were measured at.
    pub macs_shapes: BTreeMap<String, Vec<usize>>,
    /// Why MACs are absent, if they are.
    pub macs_note: Option<String>,
}

fn io(v: &ValueInfo) -> IoInfo {
    IoInfo {
        name: v.name.clone(),
        dtype: v.dtype.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
        shape: v.shape_string(),
    }
}

/// Inspects `model`; symbolic dims take values from `dims` (1 when not given) for MAC counts.
pub fn inspect(model: &Model, dims: &HashMap<String, usize>) -> InspectReport {
    let g = &model.graph;
    let (parameters, parameter_bytes) = g.parameter_stats();
    let unsupported = unsupported_ops(g);
    let macs_shapes = g
        .inputs
        .iter()
        .map(|i| (i.name.clone(), resolve_shape(i.shape.as_deref(), dims, 1)))
        .collect();
    let (macs_by_op, macs_note) = if unsupported.is_empty() {
        match measure_macs(model, dims) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, Some("the model has unsupported ops".into()))
    };
    InspectReport {
        opset: model.opset(),
        opsets: model.opsets.clone(),
        ir_version: model.ir_version,
        producer: format!("{} {}", model.producer_name, model.producer_version)
            .trim()
            .to_string(),
        inputs: g.inputs.iter().map(io).collect(),
        outputs: g.outputs.iter().map(io).collect(),
        nodes: g.nodes.len(),
        op_histogram: g.op_histogram(),
        parameters,
        parameter_bytes,
        unsupported,
        macs_by_op,
        macs_shapes,
        macs_note,
    }
}

fn measure_macs(
    model: &Model,
    dims: &HashMap<String, usize>,
) -> Result<BTreeMap<String, u64>, String> {
    // Every node on its own and QDQ patterns as written, so the counts are per op type as
    // authored.
    let options = SessionOptions {
        conv_chains: false,
        qdq_int8: false,
        ..SessionOptions::default()
    };
    let inputs = random_inputs(&model.graph, dims, 0).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for s in step_macs(model, options, &inputs).map_err(|e| e.to_string())? {
        *out.entry(s.op_type).or_insert(0) += s.macs;
    }
    Ok(out)
}
