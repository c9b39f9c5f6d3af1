//! Step 2b: elementwise float chains between two quantizations become lookup tables.
//!
//! ```text
//! DQ(q, s, z) -> [Sigmoid, Mul, Add, Clip, Div, HardSwish, Tanh, ...] -> Q(s2, z2)
//!     =>  burnish::QLut(q, table)
//! ```
//! The chain holds elementwise ops whose inputs are the dequantized value, values of the chain
//! or scalar constants (SiLU `x * Sigmoid(x)`, HardSwish as `Add/Clip/Div/Mul`, ...), and every
//! value of the chain is read only inside it and by the one closing `QuantizeLinear` (scales and
//! zero points per tensor and constant). The dequantized value itself may have other readers
//! (onnxruntime's layout reads it in the `Mul` of `x * Q(Sigmoid(x))`): its `DQ` stays for them. The table is the chain itself, `DQ` and `Q` included,
//! run once by the runtime on the 256 codes, so `table[q]` is what the float graph computes for
//! `q` (an activation's kernels may round differently in vector and scalar code: at most one
//! code, as for the other int8 ops).

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::query::{Namer, add_const, constant, is_op};
use burnish_model::{Buffer, DType, Graph, Model, Node, TensorData, ValueInfo, domain};

use crate::{Session, SessionOptions};

use super::readers;

/// Elementwise ops a chain may hold (one output each, numpy broadcasting of scalar constants).
const ELEMENTWISE: [&str; 22] = [
    "Sigmoid",
    "Tanh",
    "Relu",
    "LeakyRelu",
    "HardSigmoid",
    "HardSwish",
    "Clip",
    "Elu",
    "Selu",
    "Softplus",
    "Softsign",
    "Erf",
    "Gelu",
    "Mish",
    "Neg",
    "Abs",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
];

/// Rewrites every chain of `g` into a `QLut`; returns how many.
pub(super) fn lookup_tables(model: &mut Model, namer: &mut Namer) -> usize {
    let mut done = 0;
    let mut i = 0;
    while i < model.graph.nodes.len() {
        if is_op(&model.graph.nodes[i], "DequantizeLinear")
            && let Some(chain) = find(&model.graph, i)
            && let Some(table) = table(model, &chain)
        {
            rewrite(&mut model.graph, chain, table, namer);
            done += 1;
            continue;
        }
        i += 1;
    }
    done
}

/// A chain: the `DQ` node, the ops between (graph order), the closing `Q`.
struct Chain {
    dq: usize,
    ops: Vec<usize>,
    q: usize,
}

/// A Q/DQ node with a named output and a per-tensor constant scale and zero point (of type
/// u8 or i8).
pub(super) fn per_tensor_u8_i8(g: &Graph, n: &Node) -> bool {
    let scalar = |i: usize| {
        n.input(i)
            .and_then(|v| constant(g, v))
            .is_some_and(|t| t.len() == 1)
    };
    let zp_ok = match n.input(2) {
        None => true,
        Some(z) => constant(g, z)
            .is_some_and(|t| t.len() == 1 && matches!(t.data, Buffer::U8(_) | Buffer::I8(_))),
    };
    n.inputs.len() >= 2 && n.outputs.first().is_some_and(|o| !o.is_empty()) && scalar(1) && zp_ok
}

/// A constant of one element that broadcasts without raising a chain value's rank.
fn scalar_const(t: &Arc<TensorData>) -> bool {
    t.len() == 1 && t.shape.len() <= 1
}

fn find(g: &Graph, dq: usize) -> Option<Chain> {
    let d = &g.nodes[dq];
    if !per_tensor_u8_i8(g, d) || d.outputs.len() != 1 || constant(g, &d.inputs[0]).is_some() {
        return None;
    }
    let mut values: Vec<&str> = vec![d.outputs[0].as_str()];
    let mut ops: Vec<usize> = Vec::new();
    let mut q = None;
    // Grow the chain until no reader joins: an op joins once all its inputs are chain values
    // or scalar constants (HardSwish's `Mul` reads `x` early and the `Div` output late).
    loop {
        let mut grew = false;
        for r in values
            .iter()
            .flat_map(|v| readers(g, v))
            .collect::<Vec<_>>()
        {
            if ops.contains(&r) || q == Some(r) {
                continue;
            }
            let n = &g.nodes[r];
            if is_op(n, "QuantizeLinear") {
                if q.is_some() || !values.contains(&n.inputs[0].as_str()) {
                    return None;
                }
                q = Some(r);
                continue;
            }
            let ready = ELEMENTWISE.iter().any(|op| is_op(n, op))
                && n.outputs.len() == 1
                && !n.outputs[0].is_empty()
                && n.inputs.iter().filter(|i| !i.is_empty()).all(|i| {
                    values.contains(&i.as_str()) || constant(g, i).is_some_and(scalar_const)
                });
            if ready {
                ops.push(r);
                values.push(n.outputs[0].as_str());
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let q = q?;
    let inside = |r: usize| r == q || ops.contains(&r);
    // The dequantized value may have other readers (the DQ then stays for them); the chain's
    // own values may not.
    let sealed = values[1..]
        .iter()
        .all(|v| !g.outputs.iter().any(|o| o.name == *v) && readers(g, v).into_iter().all(inside));
    ops.sort_unstable();
    let ordered = ops.first().is_some_and(|&o| o > dq) && ops.last().is_some_and(|&o| o < q);
    (sealed && ordered && per_tensor_u8_i8(g, &g.nodes[q])).then_some(Chain { dq, ops, q })
}

/// The chain run on every code: 256 output codes indexed by the input code's byte.
fn table(model: &Model, c: &Chain) -> Option<TensorData> {
    let nodes: Vec<Node> = std::iter::once(c.dq)
        .chain(c.ops.iter().copied())
        .chain([c.q])
        .map(|i| model.graph.nodes[i].clone())
        .collect();
    table_of(model, nodes)
}

/// The table of `nodes` (a `DequantizeLinear` first, a `QuantizeLinear` last, constants from
/// `model`): the nodes run on the 256 codes of the DQ's input type.
pub(super) fn table_of(model: &Model, nodes: Vec<Node>) -> Option<TensorData> {
    let input = nodes[0].inputs[0].clone();
    let output = nodes.last()?.outputs[0].clone();
    let codes = codes_for(&model.graph, &nodes[0], (0..=255).collect())?;
    let out = run_on_codes(model, nodes, vec![(input, codes)], &output)?;
    (out.len() == 256).then_some(out)
}

/// `bytes` as codes of the type `dq` dequantizes (its zero point's; u8 without one).
pub(super) fn codes_for(g: &Graph, dq: &Node, bytes: Vec<u8>) -> Option<TensorData> {
    let signed = match dq.input(2) {
        Some(z) => matches!(constant(g, z)?.data, Buffer::I8(_)),
        None => false,
    };
    Some(TensorData {
        shape: vec![bytes.len()],
        data: if signed {
            Buffer::I8(bytes.into_iter().map(|b| b as i8).collect())
        } else {
            Buffer::U8(bytes)
        },
    })
}

/// Runs `nodes` (their constants taken from `model`) on `inputs` and returns `output` when it
/// holds u8 or i8 codes, flattened.
pub(super) fn run_on_codes(
    model: &Model,
    nodes: Vec<Node>,
    inputs: Vec<(String, TensorData)>,
    output: &str,
) -> Option<TensorData> {
    let g = &model.graph;
    let mut initializers = BTreeMap::new();
    for n in &nodes {
        for i in n.inputs.iter().filter(|i| !i.is_empty()) {
            if let Some(t) = constant(g, i) {
                initializers.insert(i.clone(), Arc::clone(t));
            }
        }
    }
    let mini = Model {
        graph: Graph {
            name: "lut".into(),
            inputs: inputs
                .iter()
                .map(|(name, t)| ValueInfo {
                    name: name.clone(),
                    dtype: Some(if matches!(t.data, Buffer::I8(_)) {
                        DType::I8
                    } else {
                        DType::U8
                    }),
                    shape: None,
                })
                .collect(),
            outputs: vec![ValueInfo {
                name: output.to_string(),
                dtype: None,
                shape: None,
            }],
            initializers,
            nodes,
            ..Graph::default()
        },
        opsets: model.opsets.clone(),
        ir_version: model.ir_version,
        ..Model::default()
    };
    let session = Session::new(
        &mini,
        SessionOptions {
            threads: Some(1),
            qdq_int8: false,
            ..SessionOptions::default()
        },
    )
    .ok()?;
    let out = session
        .run(&inputs.into_iter().collect())
        .ok()?
        .remove(output)?;
    matches!(out.data, Buffer::U8(_) | Buffer::I8(_)).then(|| TensorData {
        shape: vec![out.len()],
        data: out.data,
    })
}

fn rewrite(g: &mut Graph, c: Chain, table: TensorData, namer: &mut Namer) {
    let x = g.nodes[c.dq].inputs[0].clone();
    let out = g.nodes[c.q].outputs[0].clone();
    let name = g.nodes[c.q].name.clone();
    let t = add_const(g, namer, &format!("{name}_table"), table);
    let lut = Node {
        name: namer.fresh(&format!("{name}_lut")),
        op_type: domain::QLUT.into(),
        domain: domain::DOMAIN.into(),
        inputs: vec![x, t],
        outputs: vec![out],
        attrs: Default::default(),
    };
    let mut drop: Vec<usize> = c.ops;
    drop.sort_unstable();
    g.nodes[c.q] = lut;
    for i in drop.into_iter().rev() {
        g.nodes.remove(i);
    }
}
