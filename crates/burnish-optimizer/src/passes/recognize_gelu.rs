//! `recognize_gelu`: replaces the decomposed GELU (both forms) by the standard `Gelu` op
//! (opset 20; the exporter bumps the opset or decomposes it again).
//!
//! ```text
//!   erf form:   x ──> Div(√2) | Mul(1/√2) ──> Erf ──> Add(1) ──> Mul(x, ·) ──> Mul(0.5) ──> y
//!   tanh form:  x ──> Pow(3) ──> Mul(0.044715) ──> Add(x, ·) ──> Mul(√(2/π)) ──> Tanh
//!                 ──> Add(1) ──> Mul(x, ·) ──> Mul(0.5) ──> y
//!   (the 0.5 may also scale x first: Mul(Mul(x, 0.5), ·))
//!   =>  x ──> Gelu(approximate = none | tanh) ──> y
//! ```
//!
//! The Gelu node takes the name of the last node of the pattern. Refuses: any intermediate value
//! read outside the pattern or a graph output; constants off by more than 1e-4 relative.
//! Exact up to float rounding (the runtime's Gelu evaluates the same formula).

use burnish_model::{Attribute, Model, Node};

use crate::rewrite::{Editor, is_op, rewrite_each, scalar_f32};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct RecognizeGelu;

impl Pass for RecognizeGelu {
    fn name(&self) -> &'static str {
        "recognize_gelu"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |g, j| Ok(rewrite_at(g, j).is_some()))
    }
}

pub(crate) fn near(g: &Editor, name: Option<&str>, want: f32) -> bool {
    name.and_then(|n| g.constant(n))
        .and_then(|t| scalar_f32(t))
        .is_some_and(|v| (v - want).abs() <= 1e-4 * want.abs().max(1e-6))
}

/// `node` is `op(value, const ≈ c)` in either order (`commutes`); returns the value input.
pub(crate) fn with_const<'a>(
    g: &Editor,
    node: &'a Node,
    op: &str,
    c: f32,
    commutes: bool,
) -> Option<&'a str> {
    if !is_op(node, op) {
        return None;
    }
    if near(g, node.input(1), c) {
        return node.input(0);
    }
    (commutes && near(g, node.input(0), c)).then(|| node.input(1))?
}

/// The producing node of `value`, if `value` is read once.
pub(crate) fn sole<'e>(g: &'e Editor, value: &str) -> Option<(usize, &'e Node)> {
    if !g.single_use(value) {
        return None;
    }
    let i = g.producer(value)?;
    Some((i, g.node(i)))
}

fn rewrite_at(g: &mut Editor, end: usize) -> Option<()> {
    let last = g.node(end);
    let mut nodes = vec![end];
    // y = Mul(m, 0.5) with m = Mul(x, a), or y = Mul(h, a) with h = Mul(x, 0.5).
    let (x, a) = if let Some(m) = with_const(g, last, "Mul", 0.5, true) {
        let (mi, mn) = sole(g, m)?;
        nodes.push(mi);
        if !is_op(mn, "Mul") {
            return None;
        }
        (mn.input(0)?, mn.input(1)?)
    } else if is_op(last, "Mul") {
        let (k, hi, x) = (0..2).find_map(|k| {
            let (hi, hn) = sole(g, last.input(k)?)?;
            Some((k, hi, with_const(g, hn, "Mul", 0.5, true)?))
        })?;
        nodes.push(hi);
        (x, last.input(1 - k)?)
    } else {
        return None;
    };
    let (x, approximate) = [(x, a), (a, x)]
        .into_iter()
        .find_map(|(x, a)| match_one_plus(g, x, a).map(|(t, n)| (x, t, n)))
        .map(|(x, tanh, more)| {
            nodes.extend(more);
            (x.to_string(), tanh)
        })?;
    let name = g.node(end).name.clone();
    let outputs = g.node(end).outputs.clone();
    let gelu = Node {
        name,
        op_type: "Gelu".into(),
        domain: String::new(),
        inputs: vec![x],
        outputs,
        attrs: [(
            "approximate".to_string(),
            Attribute::String(if approximate { "tanh" } else { "none" }.into()),
        )]
        .into_iter()
        .collect(),
    };
    g.replace(end, gelu);
    for k in nodes.into_iter().filter(|&k| k != end) {
        g.remove(k);
    }
    Some(())
}

/// Matches `a = Add(f(x), 1)` with `f` the erf or tanh kernel of GELU; returns whether it is the
/// tanh form and the matched node indices.
fn match_one_plus(g: &Editor, x: &str, a: &str) -> Option<(bool, Vec<usize>)> {
    let (ai, an) = sole(g, a)?;
    let e = with_const(g, an, "Add", 1.0, true)?;
    let (ei, en) = sole(g, e)?;
    let mut nodes = vec![ai, ei];
    let inner = en.input(0)?;
    let (di, dn) = sole(g, inner)?;
    nodes.push(di);
    if is_op(en, "Erf") {
        let src = with_const(g, dn, "Div", std::f32::consts::SQRT_2, false)
            .or_else(|| with_const(g, dn, "Mul", std::f32::consts::FRAC_1_SQRT_2, true))?;
        return (src == x).then_some((false, nodes));
    }
    if !is_op(en, "Tanh") {
        return None;
    }
    let s = with_const(g, dn, "Mul", 0.797_884_6, true)?;
    let (si, sn) = sole(g, s)?;
    nodes.push(si);
    if !is_op(sn, "Add") {
        return None;
    }
    let k = (0..2).find(|&k| sn.input(k) == Some(x))?;
    let (ci, cn) = sole(g, sn.input(1 - k)?)?;
    let p = with_const(g, cn, "Mul", 0.044_715, true)?;
    let (pi, pn) = sole(g, p)?;
    (with_const(g, pn, "Pow", 3.0, false)? == x).then_some(())?;
    nodes.extend([ci, pi]);
    Some((true, nodes))
}
