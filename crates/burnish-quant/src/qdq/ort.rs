//! The `static-int8` layout for a standard QDQ consumer: Q/DQ where onnxruntime's QDQ
//! transformers turn `DQ -> op -> Q` into an int8 kernel, and nowhere else.
//!
//! | ops | onnxruntime runs | layout |
//! |---|---|---|
//! | `Conv`, `MatMul`, `Gemm` (constant weight) | `QLinearConv`, `QLinearMatMul`, `QGemm` | data input and output quantized (as for burnish) |
//! | `MatMul` of two activations | `QLinearMatMul` | both inputs and the output |
//! | `Add`, `Mul`, `Concat`, `Sigmoid`, `LeakyRelu`, `AveragePool`, `GlobalAveragePool`, `Softmax` | `QLinear*` (com.microsoft) | every input (constant ones as u8/s8 initializers) and the output |
//! | `Transpose`, `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Slice`, `Gather`, `Expand`, `Tile`, `Split`, `MaxPool`, `Resize`, `ReduceMax`/`Min` | the op on the codes (its DQ and Q dropped) | output with the input's scale and zero point, when the input or an output is quantized anyway |
//!
//! A `Relu` (or a `Clip` from 0) alone after a quantized op is absorbed into its Q range, as
//! onnxruntime's fusions treat a redundant clip. Graph outputs stay float. Only float tensors
//! are quantized (others are dropped after calibration, which reports the element types).

use std::collections::{HashMap, HashSet};

use burnish_model::Model;
use burnish_optimizer::rewrite::{constant, is_graph_output, single_use};

use super::ActTensor;
use crate::select::Candidate;
use crate::util::is;

/// Ops onnxruntime replaces with a `QLinear*` kernel when every input comes from a DQ and the
/// output goes to a Q.
const QLINEAR: &[&str] = &[
    "Add",
    "Mul",
    "Concat",
    "Sigmoid",
    "LeakyRelu",
    "AveragePool",
    "GlobalAveragePool",
    "Softmax",
];

/// Ops that only move or select values: onnxruntime runs them on the codes when the DQ before
/// and the Q after have the same parameters.
const MOVE: &[&str] = &[
    "Transpose",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Slice",
    "Gather",
    "GatherElements",
    "Expand",
    "Tile",
    "Split",
    "MaxPool",
    "Resize",
    "ReduceMax",
    "ReduceMin",
];

/// `Add`/`Mul` nodes of two activations where neither comes from a `Conv`, with those two
/// inputs (a residual `Add` after a `Conv` folds into burnish's int8 conv; see [`plane_gate`]
/// for the others).
pub fn activation_pairs(model: &Model) -> Vec<(usize, [String; 2])> {
    let g = &model.graph;
    let from_conv = |x: &str| {
        g.nodes
            .iter()
            .any(|p| is(p, "Conv") && p.outputs.iter().any(|o| o == x))
    };
    g.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| (is(n, "Add") || is(n, "Mul")) && n.inputs.len() == 2)
        .filter(|(_, n)| {
            n.inputs
                .iter()
                .all(|x| constant(g, x).is_none() && !from_conv(x))
        })
        .map(|(i, n)| (i, [n.inputs[0].clone(), n.inputs[1].clone()]))
        .collect()
}

/// Nodes the onnxruntime layout anchors that burnish's lowering keeps in float (`MatMul` of
/// two activations, `Softmax`): their Q/DQ would only add work in burnish.
pub fn float_in_burnish(model: &Model) -> Vec<usize> {
    let g = &model.graph;
    g.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            is(n, "Softmax")
                || (is(n, "MatMul") && n.inputs.iter().all(|x| constant(g, x).is_none()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether burnish runs `Add`/`Mul` of activations shaped `a` and `b` fast on int8: when one
/// is a per-plane gate (`[N, C, 1, 1]` against `[N, C, H, W]`), one 256-entry table row per
/// plane; otherwise every element reads a 64 KiB pair table, slower than the float op.
pub fn plane_gate(a: &[usize], b: &[usize]) -> bool {
    let gate = |g: &[usize], x: &[usize]| {
        g.len() == x.len()
            && g.len() >= 3
            && g[g.len() - 2..] == [1, 1]
            && x[x.len() - 2..].iter().product::<usize>() > 1
    };
    gate(a, b) || gate(b, a)
}

/// What the onnxruntime layout quantizes.
#[derive(Debug, Default)]
pub struct Layout {
    /// Activation tensors (with `same_as` for the outputs of data-movement ops).
    pub acts: Vec<ActTensor>,
    /// `(node, input)` of constant float inputs of `QLINEAR` ops, quantized per tensor with
    /// the activation type.
    pub constants: Vec<(usize, usize)>,
    /// `MatMul` nodes with two activation inputs.
    pub act_matmuls: Vec<usize>,
    /// The `QLINEAR` ops quantized around (not MAC nodes).
    pub qlinear: Vec<usize>,
}

/// The onnxruntime layout of `model` around the weight-quantized `cands`; the nodes named in
/// `exclude` stay float (no `QLinear*` or activation `QLinearMatMul` anchor).
pub fn layout(model: &Model, cands: &[Candidate], exclude: &[String]) -> Layout {
    let g = &model.graph;
    let mut out = Layout::default();
    let mac: HashSet<usize> = cands.iter().map(|c| c.idx).collect();
    let mut anchors: Vec<(usize, Vec<usize>)> = cands.iter().map(|c| (c.idx, vec![0])).collect();
    for (i, n) in g.nodes.iter().enumerate() {
        if mac.contains(&i) || exclude.contains(&n.name) {
            continue;
        }
        if is(n, "MatMul") && n.inputs.iter().all(|x| constant(g, x).is_none()) {
            anchors.push((i, vec![0, 1]));
            out.act_matmuls.push(i);
            continue;
        }
        if !QLINEAR.iter().any(|op| is(n, op)) || n.outputs.len() != 1 {
            continue;
        }
        let slots: Vec<usize> = match n.op_type.as_str() {
            "Add" | "Mul" | "Concat" => (0..n.inputs.len()).collect(),
            _ => vec![0],
        };
        let consts: Vec<usize> = slots
            .iter()
            .copied()
            .filter(|&k| constant(g, &n.inputs[k]).is_some())
            .collect();
        if consts.len() == slots.len() {
            continue;
        }
        let float_consts = consts.iter().all(|&k| {
            constant(g, &n.inputs[k]).is_some_and(|t| t.dtype() == burnish_model::DType::F32)
        });
        if !float_consts {
            continue;
        }
        out.constants.extend(consts.iter().map(|&k| (i, k)));
        out.qlinear.push(i);
        anchors.push((
            i,
            slots.into_iter().filter(|k| !consts.contains(k)).collect(),
        ));
    }
    let mut acts: Vec<ActTensor> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |a: ActTensor, acts: &mut Vec<ActTensor>| {
        if seen.insert(a.tensor.clone()) {
            acts.push(a);
        }
    };
    for (i, slots) in &anchors {
        let n = &g.nodes[*i];
        for &k in slots {
            push(ActTensor::plain(&n.inputs[k]), &mut acts);
        }
        if let Some(a) = output_tensor(model, *i) {
            push(a, &mut acts);
        }
    }
    let mut by_tensor: HashMap<String, usize> = acts
        .iter()
        .enumerate()
        .map(|(k, a)| (a.tensor.clone(), k))
        .collect();
    loop {
        let mut grew = false;
        for n in g.nodes.iter().filter(|n| MOVE.iter().any(|op| is(n, op))) {
            let Some(x) = n.inputs.first().filter(|x| constant(g, x).is_none()) else {
                continue;
            };
            if n.op_type == "MaxPool" && n.outputs.iter().filter(|o| !o.is_empty()).count() > 1 {
                continue;
            }
            let outs: Vec<&String> = n
                .outputs
                .iter()
                .filter(|o| !o.is_empty() && !is_graph_output(g, o))
                .collect();
            let touched =
                by_tensor.contains_key(x) || outs.iter().any(|o| by_tensor.contains_key(*o));
            if !touched || outs.is_empty() {
                continue;
            }
            for t in std::iter::once(x).chain(outs.iter().copied()) {
                if by_tensor.contains_key(t) {
                    continue;
                }
                let mut a = ActTensor::plain(t);
                if t != x {
                    a.same_as = Some(x.clone());
                }
                by_tensor.insert(t.clone(), acts.len());
                acts.push(a);
                grew = true;
            }
            for o in outs {
                let k = by_tensor[o];
                if acts[k].same_as.is_none() && acts[k].absorbed.is_none() {
                    acts[k].same_as = Some(x.clone());
                }
            }
        }
        if !grew {
            break;
        }
    }
    out.acts = acts;
    out
}

/// The output tensor of anchor `i` to quantize: after a `Relu` (or `Clip` from 0) that alone
/// reads it (absorbed into the range), else the output itself; none for graph outputs.
fn output_tensor(model: &Model, i: usize) -> Option<ActTensor> {
    let g = &model.graph;
    let y = g.nodes[i].outputs.first()?;
    if is_graph_output(g, y) {
        return None;
    }
    let act = single_use(g, y)
        .then(|| g.nodes.iter().position(|m| m.inputs.first() == Some(y)))
        .flatten()
        .filter(|&r| clamps_at_zero(model, r));
    match act {
        Some(r) if !is_graph_output(g, &g.nodes[r].outputs[0]) => Some(ActTensor {
            tensor: g.nodes[r].outputs[0].clone(),
            source: y.clone(),
            absorbed: Some(r),
            same_as: None,
        }),
        Some(_) => None,
        None => Some(ActTensor::plain(y)),
    }
}

/// `Relu`, or `Clip` whose minimum is the constant 0 (`Relu6`): exact when the Q range starts
/// at 0 (codes below the zero point cannot occur) and ends at or below the maximum.
fn clamps_at_zero(model: &Model, r: usize) -> bool {
    let g = &model.graph;
    let n = &g.nodes[r];
    if is(n, "Relu") {
        return true;
    }
    if !is(n, "Clip") {
        return false;
    }
    n.input(1)
        .and_then(|m| constant(g, m))
        .and_then(|t| t.to_f64_vec())
        .is_some_and(|v| v == [0.0])
}
