//! The [`QuantRecord`]: what the quantizer decided, per node and per tensor.

use serde::Serialize;

use crate::config::{ActivationType, RangeMethod};

/// The decision for one node that carries multiply-accumulates.
#[derive(Debug, Clone, Serialize)]
pub struct NodeDecision {
    /// Node name.
    pub node: String,
    /// Op type.
    pub op_type: String,
    /// True when the node now computes on quantized (or reduced-precision) operands.
    pub quantized: bool,
    /// The weight scheme (`int8 symmetric, per channel (axis 0)`), when quantized.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
    /// Why the node stays in float, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// MACs of the node on the probe input (first calibration batch or seeded inputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<u64>,
}

/// The quantization of one activation tensor.
#[derive(Debug, Clone, Serialize)]
pub struct TensorDecision {
    /// The tensor (as named in the float model).
    pub tensor: String,
    /// Observed minimum and maximum over the calibration set.
    pub observed: [f32; 2],
    /// The range chosen by the method.
    pub range: [f32; 2],
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
    /// A `Relu` folded into this tensor's quantization (its output range starts at 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absorbed: Option<String>,
}

/// What [`crate::quantize`] did, serializable into the `burnish optimize` record.
#[derive(Debug, Clone, Serialize)]
pub struct QuantRecord {
    /// The mode (`static-int8`, ...).
    pub mode: String,
    /// The range method (static mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<RangeMethod>,
    /// Per-channel weight scales.
    pub per_channel: bool,
    /// Activation element type (int8 modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_type: Option<ActivationType>,
    /// Block size (`int4-weights`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_size: Option<usize>,
    /// Calibration samples used.
    pub calibration_samples: usize,
    /// One entry per MAC-carrying node.
    pub nodes: Vec<NodeDecision>,
    /// Nodes without weights that compute on quantized activations (onnxruntime's `QLinear*`
    /// ops: `Add`, `Mul`, `Concat`, `Sigmoid`, `Softmax`, ...); `exclude_nodes` keeps them float
    /// too.
    pub activation_ops: Vec<String>,
    /// Activation tensors quantized (static mode).
    pub tensors: Vec<TensorDecision>,
    /// `QuantizeLinear` + `DynamicQuantizeLinear` nodes (float -> int boundaries).
    pub quantize_nodes: usize,
    /// `DequantizeLinear` nodes (int -> float boundaries, weights included).
    pub dequantize_nodes: usize,
    /// MACs of the quantized nodes over all MACs, on the probe input.
    pub quantized_mac_share: f64,
    /// All MACs of the model on the probe input.
    pub total_macs: u64,
    /// Parameter bytes before and after.
    pub param_bytes: [usize; 2],
    /// Decisions made automatically, and caveats.
    pub notes: Vec<String>,
}
