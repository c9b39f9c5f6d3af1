//! Recognition of scaled-dot-product attention, recorded without rewriting.
//!
//! ```text
//!   Q ──> MatMul(·, Kᵀ) ──> Div(√d) | Mul(1/√d) ──> [Add(mask)] ──> [Where(c, fill, ·)]
//!     ──> Softmax(last axis) ──> MatMul(·, V) ──> out
//! ```
//!
//! The matches are listed in [`crate::OptimizationRecord::attention`]. They are not fused
//! because a fused op would not pay on the runtime as it is: profiling the optimized bert fixture
//! (batch 2, seq 16, one thread, `burnish profile --runs 500` on an idle 16-core Xeon) puts the
//! whole subgraph at about 30 µs per layer (17% of 349 µs), of which the steps a fused kernel
//! would remove (Div, Add, Where: elementwise passes over 1024 scores) are about 6 µs per layer,
//! 3.5% of the run; the two batched MatMuls and the Softmax (~10 µs for 1024 values) would still
//! run. A faster Softmax or batched small-matrix MatMul pays more than a fusion here.
//!
//! Intermediate values read outside the pattern stop the match.

use burnish_model::{AttrExt, Graph, Node};
use serde::Serialize;

use crate::rewrite::{constant, is_op, producer, scalar_f32, single_use};

/// One recognized attention subgraph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttentionMatch {
    /// Name of the final MatMul (probabilities times V).
    pub node: String,
    /// The query input of the score MatMul.
    pub query: String,
    /// The transposed key input of the score MatMul.
    pub key_transposed: String,
    /// The value input of the final MatMul.
    pub value: String,
    /// The factor the scores are multiplied by (`1/√d` for `Div(√d)`).
    pub scale: f32,
    /// The additive mask, when there is one.
    pub mask: Option<String>,
    /// True when a `Where` fills masked scores before the softmax.
    pub masked_fill: bool,
    /// Names of the nodes of the pattern, from the score MatMul to the final MatMul.
    pub nodes: Vec<String>,
}

/// Every attention subgraph of `graph`, in node order.
pub fn find_attention(graph: &Graph) -> Vec<AttentionMatch> {
    graph
        .nodes
        .iter()
        .filter_map(|n| match_at(graph, n))
        .collect()
}

fn sole<'g>(g: &'g Graph, value: &str) -> Option<&'g Node> {
    single_use(g, value).then_some(())?;
    Some(&g.nodes[producer(g, value)?])
}

fn match_at(g: &Graph, out: &Node) -> Option<AttentionMatch> {
    if !is_op(out, "MatMul") {
        return None;
    }
    let softmax = sole(g, out.input(0)?)?;
    let axis = softmax.attrs.int_or("axis", -1).ok()?;
    if !is_op(softmax, "Softmax") || !(axis == -1 || axis == 3) {
        return None;
    }
    let mut nodes = vec![out.name.clone(), softmax.name.clone()];
    let mut cur = sole(g, softmax.input(0)?)?;
    let mut masked_fill = false;
    if is_op(cur, "Where") {
        masked_fill = true;
        nodes.push(cur.name.clone());
        cur = sole(g, cur.input(2)?)?;
    }
    let mut mask = None;
    if is_op(cur, "Add") {
        let (k, scaled) = (0..2).find_map(|k| {
            let n = sole(g, cur.input(k)?)?;
            (is_op(n, "Div") || is_op(n, "Mul")).then_some((k, n))
        })?;
        mask = Some(cur.input(1 - k)?.to_string());
        nodes.push(cur.name.clone());
        cur = scaled;
    }
    let (scores, scale) = if is_op(cur, "Div") {
        (
            cur.input(0)?,
            1.0 / scalar_f32(constant(g, cur.input(1)?)?)?,
        )
    } else if is_op(cur, "Mul") {
        (0..2).find_map(|k| {
            let s = scalar_f32(constant(g, cur.input(1 - k)?)?)?;
            Some((cur.input(k)?, s))
        })?
    } else {
        return None;
    };
    nodes.push(cur.name.clone());
    let qk = sole(g, scores)?;
    if !is_op(qk, "MatMul") {
        return None;
    }
    nodes.push(qk.name.clone());
    nodes.reverse();
    Some(AttentionMatch {
        node: out.name.clone(),
        query: qk.input(0)?.to_string(),
        key_transposed: qk.input(1)?.to_string(),
        value: out.input(1)?.to_string(),
        scale,
        mask,
        masked_fill,
        nodes,
    })
}
