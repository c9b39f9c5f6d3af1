//! Which activation tensors a static quantization quantizes.

use burnish_model::Model;
use burnish_optimizer::rewrite::{is_graph_output, producer, single_use};

use crate::select::Candidate;
use crate::util::is;

/// An activation tensor to quantize.
#[derive(Debug, Clone)]
pub struct ActTensor {
    /// The tensor whose readers will read the dequantized value.
    pub tensor: String,
    /// The value the quantizer reads (the Relu's input when a Relu is absorbed).
    pub source: String,
    /// Index of the absorbed Relu node.
    pub absorbed: Option<usize>,
    /// The tensor whose quantization parameters this one takes (outputs of data-movement ops,
    /// so that a runtime can move the codes instead of requantizing).
    pub same_as: Option<String>,
}

impl ActTensor {
    /// `tensor` quantized as it is, with its own range.
    pub fn plain(tensor: &str) -> Self {
        ActTensor {
            tensor: tensor.to_string(),
            source: tensor.to_string(),
            absorbed: None,
            same_as: None,
        }
    }
}

/// The activation tensors of a static quantization: every candidate's data input, every
/// candidate's output (after its Relu, when a Relu alone reads it), except graph outputs, and
/// residual sums that a `GlobalAveragePool` reads ([`pooled_residuals`]).
pub fn static_tensors(model: &Model, cands: &[Candidate]) -> Vec<ActTensor> {
    let g = &model.graph;
    let mut out: Vec<ActTensor> = Vec::new();
    let mut push = |t: ActTensor| {
        if !out.iter().any(|o| o.tensor == t.tensor) {
            out.push(t);
        }
    };
    for c in cands {
        let n = &g.nodes[c.idx];
        let y = &n.outputs[0];
        let relu = single_use(g, y)
            .then(|| g.nodes.iter().position(|m| m.inputs.iter().any(|i| i == y)))
            .flatten()
            .filter(|&r| is(&g.nodes[r], "Relu"));
        match relu {
            Some(r) if !is_graph_output(g, &g.nodes[r].outputs[0]) => push(ActTensor {
                tensor: g.nodes[r].outputs[0].clone(),
                source: y.clone(),
                absorbed: Some(r),
                same_as: None,
            }),
            Some(_) => {}
            None if !is_graph_output(g, y) => push(ActTensor::plain(y)),
            None => {}
        }
    }
    for c in cands {
        push(ActTensor::plain(&g.nodes[c.idx].inputs[0]));
    }
    for t in pooled_residuals(model, cands) {
        push(ActTensor::plain(&t));
    }
    out
}

/// Inputs of `GlobalAveragePool` nodes that are a residual `Add` of a candidate's output
/// (after a `Relu`/`Clip`), as a ResNet's last block ends. Quantizing them lets that `Add`
/// fold into the `QConv` (`lower/residual.rs`) as every earlier block's does; the pool then
/// averages the dequantized codes.
fn pooled_residuals(model: &Model, cands: &[Candidate]) -> Vec<String> {
    let g = &model.graph;
    let made_by = |t: &str| producer(g, t).map(|i| &g.nodes[i]);
    let from_candidate = |t: &str| {
        cands
            .iter()
            .any(|c| g.nodes[c.idx].outputs.first().is_some_and(|o| o == t))
    };
    g.nodes
        .iter()
        .filter(|n| is(n, "GlobalAveragePool"))
        .filter_map(|pool| pool.inputs.first())
        .filter(|t| !is_graph_output(g, t))
        .filter(|t| {
            let mut p = made_by(t);
            if let Some(act) = p.filter(|n| is(n, "Relu") || is(n, "Clip")) {
                p = act.inputs.first().and_then(|i| made_by(i));
            }
            p.is_some_and(|add| is(add, "Add") && add.inputs.iter().any(|i| from_candidate(i)))
        })
        .cloned()
        .collect()
}
