//! `recognize_layer_norm`: replaces the decomposed layer normalization over the last axis by
//! the standard `LayerNormalization` op (opset 17).
//!
//! ```text
//!   x ──> ReduceMean(-1) ──> m
//!   x, m ──> Sub ──> d ──> Pow(2) ──> ReduceMean(-1) ──> Add(ε) ──> Sqrt ──> s
//!   d, s ──> Div ──> Mul(γ) ──> Add(β) ──> y
//!   =>  x ──> LayerNormalization(γ, β, axis = -1, epsilon = ε) ──> y
//! ```
//!
//! The new node takes the name of the final Add. Refuses: reductions over another axis than the
//! last (or with `keepdims = 0`), intermediate values read outside the pattern or graph
//! outputs, non-constant γ/β/ε, γ or β not of shape `[D]`, an exponent other than 2.
//! Exact up to float rounding.

use burnish_model::{AttrExt, Attribute, Model, Node};

use super::recognize_gelu::{sole, with_const};
use crate::rewrite::{Editor, is_op, rewrite_each, scalar_f32};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct RecognizeLayerNorm;

impl Pass for RecognizeLayerNorm {
    fn name(&self) -> &'static str {
        "recognize_layer_norm"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |g, j| Ok(rewrite_at(g, j).is_some()))
    }
}

fn last_axis_mean(g: &Editor, node: &Node) -> Option<()> {
    if !is_op(node, "ReduceMean") || node.attrs.int_or("keepdims", 1).ok()? != 1 {
        return None;
    }
    let axes = match node.input(1) {
        Some(a) => g.constant(a)?.to_i64_vec()?,
        None => node.attrs.ints_opt("axes").ok()??,
    };
    (axes == [-1]).then_some(())
}

/// `node` is `op(a, c)` or `op(c, a)` with `c` a 1-D f32 constant; returns `(a, c)`.
fn with_vector<'a>(g: &Editor, node: &'a Node, op: &str) -> Option<(&'a str, &'a str)> {
    if !is_op(node, op) {
        return None;
    }
    (0..2).find_map(|k| {
        let c = node.input(1 - k)?;
        let t = g.constant(c)?;
        (t.shape.len() == 1 && t.as_f32().is_some()).then_some((node.input(k)?, c))
    })
}

fn rewrite_at(g: &mut Editor, end: usize) -> Option<()> {
    let (mul_out, beta) = with_vector(g, g.node(end), "Add")?;
    let (mi, mul) = sole(g, mul_out)?;
    let (div_out, gamma) = with_vector(g, mul, "Mul")?;
    let (vi, div) = sole(g, div_out)?;
    if !is_op(div, "Div") {
        return None;
    }
    let (d, s) = (div.input(0)?, div.input(1)?);
    let (si, sqrt) = sole(g, s)?;
    if !is_op(sqrt, "Sqrt") {
        return None;
    }
    let (ai, add) = sole(g, sqrt.input(0)?)?;
    let (var, eps) = with_vector_or_scalar(g, add)?;
    let (ri, red) = sole(g, var)?;
    last_axis_mean(g, red)?;
    let (pi, pow) = sole(g, red.input(0)?)?;
    if with_const(g, pow, "Pow", 2.0, false)? != d || g.use_count(d) != 2 {
        return None;
    }
    let di = g.producer(d)?;
    let sub = g.node(di);
    if !is_op(sub, "Sub") || g.is_graph_output(d) {
        return None;
    }
    let (x, m) = (sub.input(0)?, sub.input(1)?);
    let (mi0, mean) = sole(g, m)?;
    last_axis_mean(g, mean)?;
    if mean.input(0)? != x {
        return None;
    }
    let (gl, bl) = (g.constant(gamma)?.len(), g.constant(beta)?.len());
    if gl != bl || gl < 2 {
        return None;
    }
    let node = Node {
        name: g.node(end).name.clone(),
        op_type: "LayerNormalization".into(),
        domain: String::new(),
        inputs: vec![x.to_string(), gamma.to_string(), beta.to_string()],
        outputs: g.node(end).outputs.clone(),
        attrs: [
            ("axis".to_string(), Attribute::Int(-1)),
            ("epsilon".to_string(), Attribute::Float(eps)),
        ]
        .into_iter()
        .collect(),
    };
    g.replace(end, node);
    for k in [mi, vi, si, ai, ri, pi, di, mi0] {
        g.remove(k);
    }
    Some(())
}

/// `Add(v, ε)` in either order with ε a constant f32 scalar; returns `(v, ε)`.
fn with_vector_or_scalar<'a>(g: &Editor, add: &'a Node) -> Option<(&'a str, f32)> {
    if !is_op(add, "Add") {
        return None;
    }
    (0..2).find_map(|k| {
        let eps = scalar_f32(g.constant(add.input(1 - k)?)?)?;
        Some((add.input(k)?, eps))
    })
}
