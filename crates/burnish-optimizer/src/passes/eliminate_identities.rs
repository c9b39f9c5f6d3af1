//! `eliminate_identities`: removes nodes that return their input unchanged.
//!
//! ```text
//!   x ──> Identity | Dropout (inference) | Cast(to = type of x)
//!       | Reshape (static shape in == out) | Mul(x, 1) | Add(x, 0) | Sub(x, 0) | Div(x, 1)
//!     ──> y            =>   readers of y read x
//! ```
//!
//! Refuses: Dropout with a training-mode input that is not constant false or with a used mask;
//! arithmetic where broadcasting the constant changes the shape of `x` (in any probe run), or
//! with a constant of another type; Reshape whose shapes are not static; a node whose output is
//! a graph output while `x` is itself a graph input, output or initializer. Exact.

use burnish_model::{AttrExt, Model, Node};

use crate::probe::Probe;
use crate::rewrite::{Editor, forward_node, is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct EliminateIdentities;

impl Pass for EliminateIdentities {
    fn name(&self) -> &'static str {
        "eliminate_identities"
    }

    fn run(
        &self,
        model: &mut Model,
        _: &PassContext,
        cache: &ProbeCache,
    ) -> Result<usize, OptError> {
        let probed = |n: &Node| {
            matches!(
                n.op_type.as_str(),
                "Cast" | "Reshape" | "Mul" | "Add" | "Sub" | "Div"
            )
        };
        let probe = if model.graph.nodes.iter().any(probed) {
            cache.get(model)
        } else {
            None
        };
        rewrite_each(&mut model.graph, |ed, i| {
            let node = ed.node(i);
            let probe = if probed(node) { probe.as_deref() } else { None };
            let Some(src) = identity_source(ed, node, probe) else {
                return Ok(false);
            };
            Ok(forward_node(ed, i, &src))
        })
    }
}

fn identity_source(g: &Editor, node: &Node, probe: Option<&Probe>) -> Option<String> {
    if !node.domain.is_empty() && node.domain != "ai.onnx" {
        return None;
    }
    let x = node.input(0)?.to_string();
    let y = node.outputs.first()?;
    match node.op_type.as_str() {
        "Identity" => Some(x),
        "Dropout" => {
            let training = match node.input(2) {
                None => false,
                Some(t) => g.constant(t)?.to_i64_vec()?.first().copied()? != 0,
            };
            (!training).then_some(x)
        }
        "Cast" => {
            let to = node.attrs.int_opt("to").ok()??;
            let dtype = match g.graph().initializers.get(&x) {
                Some(t) => t.dtype(),
                None => probe?.dtype(&x)?,
            };
            (dtype.onnx_code() as i64 == to).then_some(x)
        }
        "Reshape" => {
            let p = probe?;
            let s = p.static_shape(&x)?;
            (p.static_shape(y)? == s).then_some(x)
        }
        "Mul" | "Add" | "Sub" | "Div" => {
            let neutral = if is_op(node, "Mul") || is_op(node, "Div") {
                1.0
            } else {
                0.0
            };
            let commutes = matches!(node.op_type.as_str(), "Mul" | "Add");
            let candidates: &[(usize, usize)] = if commutes {
                &[(0, 1), (1, 0)]
            } else {
                &[(0, 1)]
            };
            let p = probe?;
            candidates.iter().find_map(|&(xi, ci)| {
                let xv = node.input(xi)?;
                let c = g.constant(node.input(ci)?)?;
                let vals = c.to_f64_vec()?;
                let same_type = p
                    .dtype(xv)
                    .or(g.graph().initializers.get(xv).map(|t| t.dtype()))
                    == Some(c.dtype());
                (same_type
                    && !vals.is_empty()
                    && vals.iter().all(|&v| v == neutral)
                    && p.same_shape(xv, y))
                .then(|| xv.to_string())
            })
        }
        _ => None,
    }
}
