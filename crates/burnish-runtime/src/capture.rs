//! Activation capture: run a model with chosen intermediate values exposed as outputs, and find
//! the activations a static-int8 (QDQ) model quantizes.
//!
//! ```no_run
//! use burnish_runtime::capture::{capture, quantize_sites};
//! use burnish_runtime::SessionOptions;
//!
//! let model = burnish_model::load_onnx("model.qdq.onnx")?;
//! let inputs = burnish_model::read_tensors("calibration.npz")?;
//! let sites = quantize_sites(&model);
//! let names: Vec<&str> = sites.sites.iter().map(|s| s.tensor.as_str()).collect();
//! let values = capture(&model, &names, &inputs, SessionOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use burnish_model::{Attribute, DType, Model, TensorData, ValueInfo};

use crate::{RuntimeError, Session, SessionOptions};

/// A copy of `model` whose graph also outputs the values named in `names` (graph inputs,
/// intermediate values or outputs), so a session built from it keeps them alive and returns
/// them; nothing else about the graph changes. An unknown name is an error.
pub fn exposing<S: AsRef<str>>(model: &Model, names: &[S]) -> Result<Model, RuntimeError> {
    let defined = model.graph.defined_values();
    let mut probe = model.clone();
    for name in names.iter().map(AsRef::as_ref) {
        if !defined.contains(name) {
            return Err(RuntimeError::Value {
                name: name.into(),
                message: "no value of that name in the graph".into(),
            });
        }
        if !probe.graph.outputs.iter().any(|o| o.name == name) {
            probe.graph.outputs.push(ValueInfo {
                name: name.into(),
                dtype: None,
                shape: None,
            });
        }
    }
    Ok(probe)
}

/// Runs `model` on `inputs` and returns the values named in `names` (graph inputs,
/// intermediate values or outputs), keyed by name; see [`exposing`].
pub fn capture(
    model: &Model,
    names: &[&str],
    inputs: &BTreeMap<String, TensorData>,
    options: SessionOptions,
) -> Result<BTreeMap<String, TensorData>, RuntimeError> {
    let session = Session::new(&exposing(model, names)?, options)?;
    let mut outs = session.run(inputs)?;
    Ok(names.iter().filter_map(|&n| outs.remove_entry(n)).collect())
}

/// A per-tensor `QuantizeLinear` applied to an activation (not to a constant).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeSite {
    /// The quantized (float) activation: the node's input 0.
    pub tensor: String,
    /// The `QuantizeLinear` node.
    pub node: String,
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
    /// Type of the quantized values (`u8` when the node has no zero point).
    pub dtype: DType,
}

/// What [`quantize_sites`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuantizeSites {
    /// Per-tensor quantized activations, in node order, each tensor once.
    pub sites: Vec<QuantizeSite>,
    /// `QuantizeLinear` nodes on activations that were left out, with the reason
    /// (per-axis scales, non-constant scales, unsupported output types).
    pub skipped: Vec<(String, String)>,
}

/// The activations a QDQ model quantizes: every top-level `QuantizeLinear` whose input is not
/// a constant and whose scale and zero point are constant scalars.
pub fn quantize_sites(model: &Model) -> QuantizeSites {
    let graph = &model.graph;
    let mut constants: HashMap<&str, &TensorData> = graph
        .initializers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_ref()))
        .collect();
    for node in graph.nodes.iter().filter(|n| n.op_type == "Constant") {
        if let (Some(out), Some(Attribute::Tensor(t))) =
            (node.outputs.first(), node.attrs.get("value"))
        {
            constants.insert(out.as_str(), t);
        }
    }
    let mut found = QuantizeSites::default();
    for node in &graph.nodes {
        let is_q = node.op_type == "QuantizeLinear"
            && matches!(node.domain.as_str(), "" | "ai.onnx" | "com.microsoft");
        let Some(tensor) = node.input(0).filter(|_| is_q) else {
            continue;
        };
        if constants.contains_key(tensor) || found.sites.iter().any(|s| s.tensor == tensor) {
            continue;
        }
        match site(
            node.name.as_str(),
            tensor,
            node.input(1),
            node.input(2),
            &constants,
        ) {
            Ok(s) => found.sites.push(s),
            Err(reason) => found.skipped.push((node.name.clone(), reason)),
        }
    }
    found
}

fn scalar(t: &TensorData) -> Option<f64> {
    (t.len() == 1).then(|| t.to_f64_vec()?.first().copied())?
}

fn site(
    node: &str,
    tensor: &str,
    scale: Option<&str>,
    zero_point: Option<&str>,
    constants: &HashMap<&str, &TensorData>,
) -> Result<QuantizeSite, String> {
    let scale_t = scale
        .and_then(|s| constants.get(s))
        .ok_or("the scale is not a constant")?;
    let scale =
        scalar(scale_t).ok_or("per-axis scale (only per-tensor activations are checked)")?;
    let (zero_point, dtype) = match zero_point.filter(|z| !z.is_empty()) {
        None => (0, DType::U8),
        Some(z) => {
            let t = constants.get(z).ok_or("the zero point is not a constant")?;
            let v = scalar(t).ok_or("per-axis zero point")?;
            (v as i32, t.dtype())
        }
    };
    if !matches!(dtype, DType::U8 | DType::I8) {
        return Err(format!("{dtype} output (only u8 and i8 are checked)"));
    }
    Ok(QuantizeSite {
        tensor: tensor.into(),
        node: node.into(),
        scale: scale as f32,
        zero_point,
        dtype,
    })
}
