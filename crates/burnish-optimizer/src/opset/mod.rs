//! Raising a model's default-domain opset: every op whose form changed between the model's
//! opset and the target is rewritten to the target's form, with the same results.
//!
//! The op versions come from the schema table (`burnish_model::schema`). For each node, every
//! version of its op after the model's opset and up to the target is a step, and each step is
//! either known to keep the node as it is (new types, new attributes whose default is the old
//! behaviour) or has an adapter (`adapters.rs`). A step that is neither is refused with an
//! error naming the node and the change: no model is converted halfway. The main conversions:
//!
//! | op | opset | change |
//! |---|---|---|
//! | `Squeeze`, `Unsqueeze`, `ReduceSum`, `Split` | 13 | `axes`/`split` attribute -> input |
//! | other `Reduce*` | 18 | `axes` attribute -> input |
//! | `Softmax`, `LogSoftmax`, `Hardmax` | 13 | axis semantics: `Flatten -> op -> Reshape` where they differ |
//! | `Clip` | 11 | `min`/`max` attributes -> inputs |
//! | `Pad` | 11 | `pads`/`value` attributes -> inputs (`paddings` renamed at 2) |
//! | `Slice` | 10 | `starts`/`ends`/`axes` attributes -> inputs |
//! | `TopK` | 10 | `k` attribute -> input |
//! | `Upsample` | 7, 9, 10 | scales attributes -> input; deprecated at 10: `Resize` |
//! | `Resize` | 11 | `roi` input, `asymmetric` coordinates, the old nearest rounding |
//! | `Dropout` | 7, 12 | `is_test`, `ratio` dropped (no effect at inference) |
//! | `BatchNormalization` | 7, 9, 14 | `is_test`, `spatial` dropped; training outputs must be unused |
//! | `Reshape` | 5 | `shape` attribute -> input |
//! | binary ops | 7 | legacy `broadcast`/`axis` -> numpy broadcasting |
//! | `Scatter` | 11 | deprecated: `ScatterElements` |
//! | `Cast` | 6 | `to` name -> code |
//! | `RoiAlign` 16, `GridSample` 20, `DFT` 20 | | changed defaults or names kept as before |
//!
//! Refused: `Tile` before 6, `Scan` before 9, `GroupNormalization` before 21 (per-group scale),
//! `Split`-1 with an input of sizes, `BatchNormalization` with `spatial = 0`, legacy broadcasts
//! along an axis whose ranks are not declared, nearest `Resize`-10 with computed scales, and any
//! op the table does not know at the model's opset. Subgraphs are converted with their graph.
//! The converted model is checked ([`burnish_model::check`]) before it is returned.

mod adapters;
mod ctx;

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::{Attribute, Graph, Model, Node, schema};
use serde::Serialize;

use crate::OptError;
use adapters::Adapter;
use ctx::{Ctx, all_names};

/// The highest opset [`convert_opset`] raises to.
pub const MAX_TARGET: i64 = 21;

/// What [`convert_opset`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpsetRecord {
    /// The model's opset before.
    pub from: i64,
    /// The opset after.
    pub to: i64,
    /// Nodes rewritten, by op type.
    pub rewritten: BTreeMap<String, usize>,
}

enum Step {
    Same,
    Adapt(Adapter),
    Refuse(&'static str),
}

/// What happens to `op` at the opset `v` where its schema changed; `None`: not known.
fn step(op: &str, v: i64) -> Option<Step> {
    use Step::{Adapt, Refuse, Same};
    use adapters as a;
    const CONSUMED: &[&str] = &[
        "Abs",
        "Add",
        "BatchNormalization",
        "Ceil",
        "Clip",
        "Div",
        "Dropout",
        "Elu",
        "Exp",
        "Floor",
        "HardSigmoid",
        "InstanceNormalization",
        "LeakyRelu",
        "Log",
        "Max",
        "Mean",
        "Min",
        "Mul",
        "Neg",
        "PRelu",
        "Reciprocal",
        "Relu",
        "Selu",
        "Sigmoid",
        "Sqrt",
        "Sub",
        "Sum",
        "Tanh",
    ];
    const BINARY: &[&str] = &[
        "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less",
    ];
    const REDUCE: &[&str] = &[
        "ReduceL1",
        "ReduceL2",
        "ReduceLogSum",
        "ReduceLogSumExp",
        "ReduceMax",
        "ReduceMean",
        "ReduceMin",
        "ReduceProd",
        "ReduceSumSquare",
    ];
    Some(match (op, v) {
        (_, 6) if CONSUMED.contains(&op) => Adapt(a::drop_consumed),
        (_, 7) if BINARY.contains(&op) => Adapt(a::legacy_broadcast),
        (_, 18) if REDUCE.contains(&op) => Adapt(a::axes_to_input),
        ("Squeeze" | "Unsqueeze" | "ReduceSum", 13) => Adapt(a::axes_to_input),
        ("Softmax" | "LogSoftmax" | "Hardmax", 13) => Adapt(a::coerce_2d),
        ("BatchNormalization" | "Dropout", 7) => Adapt(a::drop_is_test),
        ("BatchNormalization", 9) => Adapt(a::batchnorm_9),
        ("BatchNormalization", 14) => Adapt(a::batchnorm_14),
        ("RNN" | "GRU" | "LSTM", 7) => Adapt(a::drop_output_sequence),
        ("Gemm", 7) => Adapt(a::gemm_broadcast),
        ("Cast", 6) => Adapt(a::cast_code),
        ("Concat", 4) => Adapt(a::concat_axis),
        ("Clip", 11) => Adapt(a::clip_11),
        ("Pad", 2) => Adapt(a::pad_2),
        ("Pad", 11) => Adapt(a::pad_11),
        ("Reshape", 5) => Adapt(a::reshape_5),
        ("Slice", 10) => Adapt(a::slice_10),
        ("TopK", 10) => Adapt(a::topk_10),
        ("Split", 2) => Adapt(a::split_2),
        ("Split", 13) => Adapt(a::split_to_input),
        ("Dropout", 12) => Adapt(a::dropout_12),
        ("Upsample", 7) => Adapt(a::upsample_7),
        ("Upsample", 9) => Adapt(a::upsample_9),
        ("Upsample", 10) => Adapt(a::upsample_10),
        ("Resize", 11) => Adapt(a::resize_11),
        ("Scatter", 11) => Adapt(a::scatter_11),
        ("LpPool" | "GlobalLpPool", 2) => Adapt(a::lp_pool_2),
        ("RoiAlign", 16) => Adapt(a::roi_align_16),
        ("GridSample", 20) => Adapt(a::grid_sample_20),
        ("DFT", 20) => Adapt(a::dft_20),
        ("Tile", 6) => Refuse("Tile-1's `tiles`/`axis` inputs have no later form"),
        ("Scan", 9) => Refuse("Scan-8's batch axis has no later form"),
        ("GroupNormalization", 21) => {
            Refuse("GroupNormalization-18's per-group scale and bias have no form from opset 21 on")
        }
        // New element types, new attributes or inputs whose default keeps the old behaviour,
        // relaxed constraints (negative axes, optional inputs).
        (
            "Abs"
            | "Add"
            | "Sub"
            | "Mul"
            | "Div"
            | "Ceil"
            | "Exp"
            | "Floor"
            | "Log"
            | "Neg"
            | "Reciprocal"
            | "Relu"
            | "Sigmoid"
            | "Sqrt"
            | "Tanh"
            | "Erf"
            | "Sign"
            | "IsNaN"
            | "NonZero"
            | "Mod"
            | "Expand"
            | "MatMul"
            | "Equal"
            | "Greater"
            | "Less"
            | "Pow"
            | "Max"
            | "Min"
            | "Mean"
            | "Sum"
            | "LRN"
            | "Tile"
            | "Transpose"
            | "SpaceToDepth"
            | "Identity"
            | "If"
            | "Loop"
            | "Shape"
            | "Size"
            | "Cast"
            | "Constant"
            | "Flatten"
            | "Gather"
            | "GatherElements"
            | "GatherND"
            | "ScatterElements"
            | "ScatterND"
            | "Concat"
            | "ArgMax"
            | "ArgMin"
            | "MeanVarianceNormalization"
            | "Squeeze"
            | "Unsqueeze"
            | "Reshape"
            | "Resize"
            | "Slice"
            | "Softmax"
            | "LogSoftmax"
            | "Hardmax"
            | "Clip"
            | "Pad"
            | "Split"
            | "Dropout"
            | "DepthToSpace"
            | "NegativeLogLikelihoodLoss"
            | "SoftmaxCrossEntropyLoss"
            | "QuantizeLinear"
            | "DequantizeLinear"
            | "Gemm"
            | "ReduceL1"
            | "ReduceL2"
            | "ReduceLogSum"
            | "ReduceLogSumExp"
            | "ReduceMax"
            | "ReduceMean"
            | "ReduceMin"
            | "ReduceProd"
            | "ReduceSum"
            | "ReduceSumSquare"
            | "Where"
            | "GreaterOrEqual"
            | "LessOrEqual"
            | "LeakyRelu"
            | "PRelu"
            | "BatchNormalization"
            | "CumSum"
            | "IsInf"
            | "ConstantOfShape"
            | "CastLike"
            | "AveragePool"
            | "MaxPool"
            | "Conv"
            | "ConvTranspose"
            | "Compress"
            | "OneHot"
            | "MaxUnpool"
            | "NonMaxSuppression"
            | "GRU"
            | "LSTM"
            | "RNN"
            | "Scan"
            | "LpPool"
            | "OptionalGetElement"
            | "OptionalHasElement"
            | "QLinearMatMul"
            | "TopK",
            _,
        ) => Same,
        _ => return None,
    })
}

/// Raises `model`'s default-domain opset to `to` (at most [`MAX_TARGET`]), rewriting every op
/// whose form changed (see the module documentation). Nothing changes when the model is at
/// `to` or later. On error the model is left as it was.
pub fn convert_opset(model: &mut Model, to: i64) -> Result<OpsetRecord, OptError> {
    let from = model.opset();
    let mut record = OpsetRecord {
        from,
        to: from.max(to),
        rewritten: BTreeMap::new(),
    };
    if from >= to {
        return Ok(record);
    }
    let refuse = |message: String| OptError::Opset {
        from,
        to,
        node: String::new(),
        op: String::new(),
        message,
    };
    if to > MAX_TARGET {
        return Err(refuse(format!(
            "raising past opset {MAX_TARGET} is not supported"
        )));
    }
    if from < 1 {
        return Err(refuse("the model imports no default-domain opset".into()));
    }
    let mut m = model.clone();
    let mut names = all_names(&m);
    convert_graph(&mut m.graph, from, to, &mut names, &mut record.rewritten)?;
    m.opsets.remove("ai.onnx");
    m.opsets.insert(String::new(), to);
    let issues = burnish_model::check::check(&m);
    if let Some(first) = issues.first() {
        return Err(OptError::Opset {
            from,
            to,
            node: first.node.clone().unwrap_or_default(),
            op: first.op.clone().unwrap_or_default(),
            message: format!("the converted graph is not valid: {}", first.message),
        });
    }
    *model = m;
    Ok(record)
}

fn convert_graph(
    g: &mut Graph,
    from: i64,
    to: i64,
    names: &mut std::collections::HashSet<String>,
    rewritten: &mut BTreeMap<String, usize>,
) -> Result<(), OptError> {
    for n in &mut g.nodes {
        for a in n.attrs.values_mut() {
            if let Attribute::Graph(sub) = a {
                convert_graph(sub, from, to, names, rewritten)?;
            }
        }
    }
    let mut ctx = Ctx {
        graph: g,
        names,
        added: BTreeMap::new(),
    };
    let mut out = Vec::with_capacity(ctx.graph.nodes.len());
    for n in &ctx.graph.nodes.clone() {
        let converted =
            convert_node(&mut ctx, n.clone(), from, to).map_err(|message| OptError::Opset {
                from,
                to,
                node: n.name.clone(),
                op: n.op_type.clone(),
                message,
            })?;
        if converted.len() != 1 || &converted[0] != n {
            *rewritten.entry(n.op_type.clone()).or_default() += 1;
        }
        out.extend(converted);
    }
    let added = std::mem::take(&mut ctx.added);
    g.nodes = out;
    g.initializers
        .extend(added.into_iter().map(|(k, t)| (k, Arc::new(t))));
    Ok(())
}

/// `n`, in the form of opset `at`, in the form of opset `to`.
fn convert_node(ctx: &mut Ctx, mut n: Node, at: i64, to: i64) -> Result<Vec<Node>, String> {
    if !(n.domain.is_empty() || n.domain == "ai.onnx") {
        return Ok(vec![n]);
    }
    let op = n.op_type.clone();
    // An op newer than the graph's opset (a fusion's `LayerNormalization` in an opset-13
    // model) is in the form of the opset that introduced it.
    let at = match (
        schema::lookup(&op, at),
        schema::versions(&op).into_iter().min(),
    ) {
        (Some(_), _) => at,
        (None, Some(first)) if first > at && first <= to => first,
        _ => {
            return Err(format!(
                "no op `{op}` at opset {at} in the ONNX schema table"
            ));
        }
    };
    for v in schema::versions(&op)
        .into_iter()
        .filter(|&v| v > at && v <= to)
    {
        let adapt = match step(&op, v) {
            Some(Step::Same) => continue,
            Some(Step::Adapt(f)) => f,
            Some(Step::Refuse(why)) => return Err(why.to_string()),
            None => {
                return Err(format!(
                    "{op} changed at opset {v} and burnish knows no conversion for it"
                ));
            }
        };
        let mut nodes = adapt(ctx, n).map_err(|e| format!("{op} at opset {v}: {e}"))?;
        if nodes.len() == 1 && nodes[0].op_type == op {
            n = nodes.remove(0);
            continue;
        }
        let mut out = Vec::new();
        for m in nodes {
            out.extend(convert_node(ctx, m, v, to)?);
        }
        return Ok(out);
    }
    Ok(vec![n])
}

#[cfg(test)]
mod tests;
