//! Which nodes to quantize: Conv, MatMul and Gemm with a constant float32 weight, unless
//! excluded; every other MAC-carrying node stays in float with a stated reason.

use burnish_model::{AttrExt, DType, Model};
use burnish_optimizer::rewrite::constant;

use crate::config::{QuantConfig, QuantMode};
use crate::record::NodeDecision;
use crate::util::is;

/// A node that will be quantized.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Node index.
    pub idx: usize,
    /// The weight initializer (input 1).
    pub weight: String,
    /// Output-channel axis of the weight (per-channel scales run along it).
    pub channel_axis: usize,
    /// Reduction axis of a 2-D weight (int4 blocks run along it).
    pub k_axis: usize,
    /// A constant float32 bias eligible for int32 quantization (`Conv` B, `Gemm` C with
    /// `alpha = beta = 1` and one value per output channel, shaped `[N]` or `[1, N]`).
    pub bias: Option<String>,
}

const MAC_OPS: &[&str] = &["Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU"];

/// Candidates and a decision for every MAC-carrying node (candidates marked quantized).
pub fn select(model: &Model, cfg: &QuantConfig) -> (Vec<Candidate>, Vec<NodeDecision>) {
    let g = &model.graph;
    let mut cands = Vec::new();
    let mut decisions = Vec::new();
    for (idx, n) in g.nodes.iter().enumerate() {
        if !MAC_OPS.iter().any(|op| is(n, op)) {
            continue;
        }
        let mut decision = NodeDecision {
            node: n.name.clone(),
            op_type: n.op_type.clone(),
            quantized: false,
            weights: None,
            reason: None,
            macs: None,
        };
        match candidate(model, cfg, idx) {
            Ok(c) => {
                decision.quantized = true;
                cands.push(c);
            }
            Err(reason) => decision.reason = Some(reason),
        }
        decisions.push(decision);
    }
    (cands, decisions)
}

fn candidate(model: &Model, cfg: &QuantConfig, idx: usize) -> Result<Candidate, String> {
    let g = &model.graph;
    let n = &g.nodes[idx];
    if cfg.exclude_nodes.iter().any(|e| e == &n.name) {
        return Err("excluded (kept in float on request)".into());
    }
    let op = n.op_type.as_str();
    if !matches!(op, "Conv" | "MatMul" | "Gemm") {
        return Err(format!("no quantized form of {op} in burnish"));
    }
    if op == "Conv" && matches!(cfg.mode, QuantMode::DynamicInt8 | QuantMode::Int4Weights) {
        return Err(format!(
            "{} covers MatMul/Gemm; use static-int8 for convolutions",
            cfg.mode
        ));
    }
    let x = n.input(0).ok_or("no input")?;
    if constant(g, x).is_some() {
        return Err("the data input is a constant (fold it first)".into());
    }
    let wname = n.input(1).ok_or("no weight input")?;
    let w = constant(g, wname)
        .ok_or("the weight is not a constant initializer (both operands are activations)")?;
    if w.dtype() != DType::F32 {
        return Err(format!("the weight is {}, not float32", w.dtype()));
    }
    let rank = w.shape.len();
    let int = |k: &str, d: i64| n.attrs.int_or(k, d).unwrap_or(d);
    let float = |k: &str| n.attrs.float_or(k, 1.0).unwrap_or(1.0);
    let (channel_axis, k_axis) = match op {
        "Conv" if rank >= 3 => (0, 1),
        "Conv" => return Err(format!("weight of rank {rank}")),
        _ if rank != 2 => return Err(format!("weight of rank {rank} (2 expected)")),
        "Gemm" if int("transA", 0) != 0 => return Err("Gemm with transA = 1".into()),
        "Gemm" if int("transB", 0) != 0 => (0, 1),
        _ => (1, 0),
    };
    let channels = w.shape[channel_axis];
    let bias = n.input(2).filter(|b| {
        let unit = op == "Conv" || (float("alpha") == 1.0 && float("beta") == 1.0);
        // A Gemm's `[1, N]` C broadcasts as `[N]` does; it is written 1-D.
        let per_channel = |s: &[usize]| s == [channels] || (op == "Gemm" && s == [1, channels]);
        unit && constant(g, b).is_some_and(|t| t.dtype() == DType::F32 && per_channel(&t.shape))
    });
    Ok(Candidate {
        idx,
        weight: wname.to_string(),
        channel_axis,
        k_axis,
        bias: bias.map(str::to_string),
    })
}
