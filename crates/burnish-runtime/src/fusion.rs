//! Finding conv chains when a session is built: a `Conv` followed by nodes that only it feeds,
//! in this order, each optional: an inference `BatchNormalization` with constant parameters (or
//! a `Mul` and/or `Add` by per-channel constants, as tf2onnx writes it), an `Add` of a residual,
//! a `Relu` or a `Clip` with constant bounds. Such a chain runs as one
//! kernel call ([`crate::ops::conv_chain`]) with the result the nodes give one by one.

use std::collections::HashMap;
use std::sync::Arc;

use burnish_model::{Graph, Node, TensorData};

use crate::ops::BuildCtx;
use crate::ops::conv_chain::Tail;
use crate::ops::norm;

/// One chain: graph node indices (the `Conv` first) and what the epilogue applies.
pub(crate) struct Chain {
    pub nodes: Vec<usize>,
    pub tail: Tail,
}

/// The chains of `graph`, none overlapping. `host` holds the constant values (initializers and
/// `Constant` outputs), `readers` how many node inputs and graph outputs read each value.
pub(crate) fn find_chains<'g>(
    graph: &'g Graph,
    opset: i64,
    host: &HashMap<String, Arc<TensorData>>,
    readers: &HashMap<&str, usize>,
) -> Vec<Chain> {
    let mut consumer: HashMap<&str, usize> = HashMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        for input in node.inputs.iter().filter(|s| !s.is_empty()) {
            consumer.insert(input.as_str(), i);
        }
    }
    // The node that alone reads `value` (once), if any.
    let sole = |value: &str, claimed: &[bool]| -> Option<usize> {
        (readers.get(value) == Some(&1))
            .then(|| consumer.get(value).copied())
            .flatten()
            .filter(|&j| !claimed[j])
    };
    let ctx = |node| BuildCtx::new(node, opset, host);
    let mut chains = Vec::new();
    let mut claimed = vec![false; graph.nodes.len()];
    for (i, conv) in graph.nodes.iter().enumerate() {
        if conv.op_type != "Conv" || !conv.domain.is_empty() || conv.outputs.len() != 1 {
            continue;
        }
        let weight = conv.input(1).and_then(|w| host.get(w));
        let channels = weight.and_then(|w| w.shape.first().copied());
        let rank = weight.map_or(0, |w| w.shape.len());
        let mut nodes = vec![i];
        let mut tail = Tail {
            affine: None,
            residual: None,
            clamp: (f32::NEG_INFINITY, f32::INFINITY),
        };
        let mut arity = conv.inputs.len();
        let mut out = conv.outputs[0].as_str();
        let mut next = sole(out, &claimed).map(|j| (j, &graph.nodes[j]));
        // Adds member `j` (`node`, whose other `inputs` join the chain's): the chain's output
        // becomes the member's, and the next candidate its sole reader.
        let member = |nodes: &mut Vec<usize>, arity: &mut usize, j, node: &'g Node, inputs| {
            nodes.push(j);
            *arity += inputs;
            let out = node.outputs[0].as_str();
            (out, sole(out, &claimed).map(|j| (j, &graph.nodes[j])))
        };
        if let Some((j, bn)) = next
            && is_default(bn, "BatchNormalization")
            && !bn.outputs.is_empty()
            && bn.input(0) == Some(out)
            && only_first_output_read(bn, readers)
            && let Some((a, b)) = norm::folded(&ctx(bn))
            && Some(a.len()) == channels
        {
            tail.affine = Some((a, b));
            (out, next) = member(&mut nodes, &mut arity, j, bn, bn.inputs.len() - 1);
        } else if let (Some(c), Some((j, mul))) = (channels, next)
            && is_default(mul, "Mul")
            && let Some(scale) = per_channel_operand(mul, out, host, c, rank)
        {
            // tf2onnx's BatchNormalization: Mul and Add by per-channel constants. A Mul alone
            // adds -0.0 (exact for every value, signed zeros included); an Add alone scales by 1.
            let mut shift = vec![-0.0; c];
            (out, next) = member(&mut nodes, &mut arity, j, mul, 1);
            if let Some((j, add)) = next
                && is_default(add, "Add")
                && let Some(t) = per_channel_operand(add, out, host, c, rank)
            {
                shift = t;
                (out, next) = member(&mut nodes, &mut arity, j, add, 1);
            }
            tail.affine = Some((scale, shift));
        } else if let (Some(c), Some((j, add))) = (channels, next)
            && is_default(add, "Add")
            && let Some(shift) = per_channel_operand(add, out, host, c, rank)
        {
            tail.affine = Some((vec![1.0; c], shift));
            (out, next) = member(&mut nodes, &mut arity, j, add, 1);
        }
        if let Some((j, add)) = next
            && (is_default(add, "Add") || is_default(add, "Sum"))
            && add.inputs.len() == 2
            && add.outputs.len() == 1
            && let Some(fed) = add.inputs.iter().position(|s| s == out)
            && !add.inputs[1 - fed].is_empty()
        {
            tail.residual = Some(arity);
            (out, next) = member(&mut nodes, &mut arity, j, add, 1);
        }
        if let Some((j, act)) = next
            && act.outputs.len() == 1
            && act.input(0) == Some(out)
            && let Some(clamp) = clamp_bounds(&ctx(act))
        {
            tail.clamp = clamp;
            nodes.push(j);
        }
        if nodes.len() > 1 {
            for &j in &nodes {
                claimed[j] = true;
            }
            chains.push(Chain { nodes, tail });
        }
    }
    chains
}

/// The per-channel values of the constant operand of a binary `node` that reads `value`, when
/// the constant only varies along the channel axis of a rank-`rank` output with `channels`
/// channels (`[]`, `[1]`, `[C, 1, 1]`, `[1, C, 1, 1]`, ...), so broadcasting never grows the
/// output.
fn per_channel_operand(
    node: &Node,
    value: &str,
    host: &HashMap<String, Arc<TensorData>>,
    channels: usize,
    rank: usize,
) -> Option<Vec<f32>> {
    if node.inputs.len() != 2 || node.outputs.len() != 1 {
        return None;
    }
    let fed = node.inputs.iter().position(|s| s == value)?;
    let other = host.get(node.inputs[1 - fed].as_str())?;
    let values = other.as_f32()?;
    let shape = &other.shape;
    if rank < 2 || shape.len() > rank {
        return None;
    }
    // Right-aligned against `[N, C, spatial..]`: the channel axis is `rank - 2` from the end.
    let channel_at = shape.len().checked_sub(rank - 1);
    let fits = shape
        .iter()
        .enumerate()
        .all(|(i, &d)| d == 1 || (Some(i) == channel_at && d == channels));
    if !fits {
        return None;
    }
    match values.len() {
        1 => Some(vec![values[0]; channels]),
        n if n == channels => Some(values.to_vec()),
        _ => None,
    }
}

fn is_default(node: &Node, op_type: &str) -> bool {
    node.domain.is_empty() && node.op_type == op_type
}

fn only_first_output_read(node: &Node, readers: &HashMap<&str, usize>) -> bool {
    node.outputs
        .iter()
        .skip(1)
        .all(|o| o.is_empty() || !readers.contains_key(o.as_str()))
}

/// The bounds of a `Relu`, or of a `Clip` whose bounds are attributes or constants.
fn clamp_bounds(ctx: &BuildCtx) -> Option<(f32, f32)> {
    let node = ctx.node;
    if is_default(node, "Relu") {
        return Some((0.0, f32::INFINITY));
    }
    if !is_default(node, "Clip") {
        return None;
    }
    let bound = |attr: &str, input: usize, none: f32| -> Option<f32> {
        match node.input(input) {
            Some(_) => {
                let v = ctx.consts.get(input)?.as_ref()?.to_f64_vec()?;
                (v.len() == 1).then(|| v[0] as f32)
            }
            None if node.attrs.contains_key(attr) => ctx.float(attr, none).ok(),
            None => Some(none),
        }
    };
    Some((
        bound("min", 1, f32::NEG_INFINITY)?,
        bound("max", 2, f32::INFINITY)?,
    ))
}
