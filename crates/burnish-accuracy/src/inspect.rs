//! "Why is it not faster?": what of a model runs in int8, and what the CPU offers for it.
//!
//! * the CPU's int8 capabilities (the kernels `burnish-kernels` can run here),
//! * the share of multiply-accumulates (MACs) that run on integer kernels, that sit in QDQ
//!   form (float ops between `DequantizeLinear`s: int8 only once lowered), that use only
//!   dequantized weights (weight-only), and that run in float,
//! * the number of quantize / dequantize boundaries on activations (each is a pass over a
//!   tensor that a fully int8 chain would not need).

use std::collections::{BTreeMap, HashMap, HashSet};

use burnish_kernels::Kernel;
use burnish_model::domain::{DOMAIN, FUSED_CONV, FUSED_GEMM, FUSED_MATMUL, QCONV, QMATMUL};
use burnish_model::{Model, Node, TensorData};
use burnish_runtime::SessionOptions;
use burnish_runtime::macs::step_macs;
use serde::Serialize;

use crate::AccuracyError;

/// The int8 capabilities of this CPU.
#[derive(Debug, Clone, Serialize)]
pub struct CpuInt8 {
    /// The int8 GEMM kernel in use (see `BURNISH_INT8_KERNEL`).
    pub kernel: String,
    /// Every int8 kernel this CPU can run, fastest first.
    pub available: Vec<String>,
    /// Relevant CPU features.
    pub features: BTreeMap<String, bool>,
    /// What that means for int8 speed-ups.
    pub note: String,
}

/// The CPU's int8 capabilities.
pub fn cpu_int8() -> CpuInt8 {
    let kernel = Kernel::best();
    let mut features = BTreeMap::new();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        for (name, on) in [
            ("avx2", has!("avx2")),
            ("fma", has!("fma")),
            ("avx512f", has!("avx512f")),
            ("avx512bw", has!("avx512bw")),
            ("avx512vnni", has!("avx512vnni")),
            ("avxvnni", has!("avxvnni")),
        ] {
            features.insert(name.to_string(), on);
        }
    }
    let note = match kernel {
        Kernel::Avx512Vnni => {
            "AVX-512 VNNI: vpdpbusd does 64 u8xi8 MACs per instruction; int8 GEMM can reach ~4x f32 FMA throughput"
        }
        Kernel::AvxVnni => "AVX-VNNI: 256-bit vpdpbusd; int8 GEMM can reach ~4x f32 FMA throughput",
        Kernel::Avx2 => {
            "AVX2 without VNNI: exact vpmaddwd does 16 MACs per instruction, so int8 GEMM peaks at ~2x f32 FMA; quantize/dequantize passes and float ops eat into that"
        }
        _ => {
            "no SIMD int8 kernel: int8 runs on portable scalar code and is usually slower than f32"
        }
    };
    CpuInt8 {
        kernel: kernel.name().to_string(),
        available: Kernel::available()
            .into_iter()
            .map(|k| k.name().to_string())
            .collect(),
        features,
        note: note.to_string(),
    }
}

/// How a MAC-carrying node computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// An integer kernel (QLinearConv, QConv, MatMulInteger, ...).
    Int8,
    /// A float op whose activation and weight come from `DequantizeLinear` (QDQ form).
    Qdq,
    /// A float op with only a dequantized weight (weight-only quantization).
    WeightOnly,
    /// Float.
    Float,
}

impl Precision {
    /// Lower-case name, as in JSON (`int8`, `qdq`, `weight-only`, `float`).
    pub fn name(self) -> &'static str {
        match self {
            Precision::Int8 => "int8",
            Precision::Qdq => "qdq",
            Precision::WeightOnly => "weight-only",
            Precision::Float => "float",
        }
    }
}

/// One MAC-carrying node.
#[derive(Debug, Clone, Serialize)]
pub struct MacNode {
    /// Node name.
    pub name: String,
    /// Op type, domain-qualified.
    pub op: String,
    /// How it computes.
    pub precision: Precision,
    /// MACs at the inspected shapes (`None` when the model could not run).
    pub macs: Option<u64>,
}

/// The int8 picture of a model.
#[derive(Debug, Clone, Serialize)]
pub struct QuantInspection {
    /// CPU capabilities.
    pub cpu: CpuInt8,
    /// MAC-carrying nodes in graph order.
    pub nodes: Vec<MacNode>,
    /// MACs by precision (empty when MACs are unknown).
    pub macs: BTreeMap<String, u64>,
    /// Share of all MACs running on integer kernels (`None` when MACs are unknown).
    pub int8_share: Option<f64>,
    /// Share of MACs in QDQ form (int8 once lowered).
    pub qdq_share: Option<f64>,
    /// Float to int8 boundaries on activations (`QuantizeLinear`, `DynamicQuantizeLinear`,
    /// and ops that quantize their float input per call).
    pub quantize_boundaries: usize,
    /// Int8 to float boundaries on activations (`DequantizeLinear` of a computed value).
    pub dequantize_boundaries: usize,
    /// Why MACs are missing, if they are.
    pub note: Option<String>,
}

/// Integer ops that multiply and accumulate.
fn is_int8_op(node: &Node) -> bool {
    matches!(
        (node.domain.as_str(), node.op_type.as_str()),
        (
            "" | "ai.onnx",
            "QLinearConv" | "QLinearMatMul" | "ConvInteger" | "MatMulInteger"
        ) | (
            "com.microsoft",
            "DynamicQuantizeMatMul" | "MatMulIntegerToFloat" | "QGemm"
        ) | (DOMAIN, QCONV | QMATMUL)
    )
}

/// Float ops that multiply and accumulate.
fn is_float_op(node: &Node) -> bool {
    matches!(
        (node.domain.as_str(), node.op_type.as_str()),
        (
            "" | "ai.onnx",
            "Conv" | "ConvTranspose" | "MatMul" | "Gemm" | "LSTM" | "GRU"
        ) | (DOMAIN, FUSED_CONV | FUSED_MATMUL | FUSED_GEMM)
    )
}

fn is_dynamic_quantize_op(node: &Node) -> bool {
    node.domain == "com.microsoft" && node.op_type == "DynamicQuantizeMatMul"
}

/// MACs of every node whose count is defined, measured by one profiled run on `inputs`.
pub fn node_macs_at(
    model: &Model,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<HashMap<String, u64>, AccuracyError> {
    let steps = step_macs(model, SessionOptions::default(), inputs)
        .map_err(AccuracyError::runtime("running the model to count MACs"))?;
    Ok(steps.into_iter().map(|s| (s.name, s.macs)).collect())
}

/// Classifies every MAC-carrying node of `model` and counts the Q/DQ boundaries. `inputs`
/// (e.g. seeded random inputs) fix the shapes MACs are counted at; `None` skips MACs.
pub fn inspect_quant(
    model: &Model,
    inputs: Option<&BTreeMap<String, TensorData>>,
) -> QuantInspection {
    let g = &model.graph;
    let constant: HashSet<&str> = g
        .initializers
        .keys()
        .map(String::as_str)
        .chain(
            g.nodes
                .iter()
                .filter(|n| n.op_type == "Constant")
                .flat_map(|n| n.outputs.iter().map(String::as_str)),
        )
        .collect();
    let producer: HashMap<&str, &Node> = g
        .nodes
        .iter()
        .flat_map(|n| n.outputs.iter().map(move |o| (o.as_str(), n)))
        .collect();
    let from_dq = |v: Option<&str>| {
        v.and_then(|v| producer.get(v))
            .is_some_and(|p| p.op_type == "DequantizeLinear")
    };
    let (macs, note) = match inputs.map(|i| node_macs_at(model, i)) {
        Some(Ok(m)) => (Some(m), None),
        Some(Err(e)) => (None, Some(e.to_string())),
        None => (None, Some("no inputs to count MACs at".to_string())),
    };
    let mut nodes = Vec::new();
    let (mut quantize, mut dequantize) = (0, 0);
    for n in &g.nodes {
        let activation_input = n.input(0).is_some_and(|v| !constant.contains(v));
        match n.op_type.as_str() {
            "QuantizeLinear" | "DynamicQuantizeLinear" if activation_input => quantize += 1,
            "DequantizeLinear" if activation_input => dequantize += 1,
            _ => {}
        }
        if is_dynamic_quantize_op(n) {
            quantize += 1;
        }
        let precision = if is_int8_op(n) {
            Precision::Int8
        } else if is_float_op(n) {
            match (from_dq(n.input(0)), from_dq(n.input(1))) {
                (true, true) => Precision::Qdq,
                (false, true) => Precision::WeightOnly,
                _ => Precision::Float,
            }
        } else {
            continue;
        };
        nodes.push(MacNode {
            name: n.name.clone(),
            op: n.qualified_op(),
            precision,
            macs: macs.as_ref().and_then(|m| m.get(&n.name).copied()),
        });
    }
    let mut by = BTreeMap::new();
    if macs.is_some() {
        for n in &nodes {
            *by.entry(n.precision.name().to_string()).or_insert(0u64) += n.macs.unwrap_or(0);
        }
    }
    let total: u64 = by.values().sum();
    let share = |k: &str| {
        (macs.is_some() && total > 0).then(|| by.get(k).copied().unwrap_or(0) as f64 / total as f64)
    };
    QuantInspection {
        cpu: cpu_int8(),
        int8_share: share("int8"),
        qdq_share: share("qdq"),
        macs: by,
        nodes,
        quantize_boundaries: quantize,
        dequantize_boundaries: dequantize,
        note,
    }
}
