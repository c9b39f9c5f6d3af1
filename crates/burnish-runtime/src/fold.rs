//! Constant folding when a session is built: nodes whose inputs are all constants are
//! evaluated once, their outputs become constants of the plan.

use std::collections::HashMap;
use std::sync::Arc;

use burnish_model::{Graph, Node};

use crate::ops::{self, BuildCtx, Known};
use crate::value::Value;

/// Ops never evaluated at build: their outputs are random, or a constant input does not make
/// them constant.
const NOT_FOLDABLE: &[&str] = &[
    "RandomUniform",
    "RandomNormal",
    "RandomUniformLike",
    "RandomNormalLike",
    "Bernoulli",
    "Multinomial",
    "Dropout",
];

/// Largest output, in elements, a node may have to be evaluated at build: 512 MiB of f32, so
/// the largest weights of common CNNs (VGG's 4096 x 25088 classifier) fold and pack once.
const MAX_FOLD_ELEMENTS: usize = 1 << 27;

/// Evaluates, when the session is built, every default-domain node whose inputs are all
/// constants (initializers, `Constant` outputs, or outputs folded before it), as onnxruntime's
/// constant folding does: later nodes then see constant weights (a `Conv` whose weight is a
/// `ConstantOfShape`, `Cast` or `DequantizeLinear` of an initializer packs it once) and the
/// run skips the work. Returns the folded outputs by node index and adds them to `host`.
/// A node whose evaluation fails is left to run (and report its error) at run time.
pub(crate) fn fold_constants(
    graph: &Graph,
    opset: i64,
    host: &mut Known,
) -> HashMap<usize, Vec<(String, Value)>> {
    let mut folded = HashMap::new();
    for (index, node) in graph.nodes.iter().enumerate() {
        let default_domain = node.domain.is_empty() || node.domain == "ai.onnx";
        if !default_domain {
            continue;
        }
        if node.op_type == "Constant" {
            let ctx = BuildCtx::new(node, opset, host);
            if let (Ok(data), Some(out)) =
                (ops::generate::constant_data(&ctx), node.outputs.first())
            {
                host.insert(out.clone(), Arc::new(data));
            }
            continue;
        }
        let present: Vec<&String> = node.inputs.iter().filter(|s| !s.is_empty()).collect();
        if present.is_empty()
            || NOT_FOLDABLE.contains(&node.op_type.as_str())
            || node.has_subgraphs()
            || !present.iter().all(|n| host.contains_key(n.as_str()))
        {
            continue;
        }
        if let Some(values) = evaluate(node, opset, host) {
            for (name, v) in &values {
                if let Ok(t) = v.to_data() {
                    host.insert(name.clone(), Arc::new(t));
                }
            }
            folded.insert(index, values);
        }
    }
    folded
}

/// The outputs of `node` on the constant inputs in `host` (`None` when it fails, produces a
/// tensor above [`MAX_FOLD_ELEMENTS`], or a value that is not a tensor).
fn evaluate(node: &Node, opset: i64, host: &Known) -> Option<Vec<(String, Value)>> {
    let build = ops::builder(&node.domain, &node.op_type)?;
    let inputs = node
        .inputs
        .iter()
        .map(|n| match n.as_str() {
            "" => Ok(None),
            name => host
                .get(name)
                .ok_or_else(|| format!("`{name}` is not constant"))
                .and_then(|t| Value::upload(t).map(Some)),
        })
        .collect::<Result<Vec<_>, String>>()
        .ok()?;
    let outs = crate::exec::catch(|| {
        let op = build(&BuildCtx::new(node, opset, host))?;
        op.run(ops::Inputs::new(inputs))
    })
    .ok()?;
    if outs.len() < node.outputs.iter().filter(|o| !o.is_empty()).count() {
        return None;
    }
    node.outputs
        .iter()
        .zip(outs)
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, v)| {
            (v.prim().is_some() && v.numel() <= MAX_FOLD_ELEMENTS).then(|| (name.clone(), v))
        })
        .collect()
}
