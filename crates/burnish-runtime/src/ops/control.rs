//! Control flow with subgraphs: `If`, `Loop`, `Scan` and `SequenceMap`.
//!
//! Each subgraph compiles once, when the session is built, into its own plan. The values of the
//! enclosing graphs it reads arrive two ways: constants are compiled into the subgraph (a weight
//! captured from the main graph is packed once, like any initializer), every other value is an
//! implicit input that the session appends after the node's own inputs ([`BuildCtx::implicit`]).

mod loops;
mod scan;

use std::sync::Arc;

use burnish_model::AttrExt;

use super::{BuildCtx, Builder, Inputs, Op, op};
use crate::plan::Plan;
use crate::value::Value;

pub(crate) use loops::{loop_op, sequence_map};
pub(crate) use scan::scan;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("If", if_op),
    ("Loop", loop_op),
    ("Scan", scan),
    ("SequenceMap", sequence_map),
];

/// A compiled subgraph and which of the node's implicit inputs it reads.
pub(crate) struct Body {
    plan: Arc<Plan>,
    /// Positions in the node's implicit values of this body's implicit inputs, in its order.
    picks: Vec<usize>,
    /// The body's own (formal) inputs.
    pub formal: usize,
    /// The body's outputs.
    pub outputs: usize,
    /// The declared types of the body's outputs (for empty results of zero iterations).
    pub output_info: Vec<burnish_model::ValueInfo>,
}

impl Body {
    /// Compiles the graph attribute `attr` of the node in `ctx`.
    pub(crate) fn compile(ctx: &BuildCtx, attr: &str) -> Result<Body, String> {
        let graph = ctx
            .node
            .attrs
            .graph_opt(attr)
            .map_err(|e| e.0)?
            .ok_or_else(|| format!("the graph attribute `{attr}` is missing"))?;
        let free = graph.free_values();
        let mut picks = Vec::new();
        let mut mine = Vec::new();
        for (k, name) in ctx.implicit.iter().enumerate() {
            if free.contains(name) {
                picks.push(k);
                mine.push(name.clone());
            }
        }
        let empty = super::Known::new();
        let known = ctx.known.unwrap_or(&empty);
        let plan = Plan::compile_graph(graph, ctx.opset, ctx.fuse, known, &mine)
            .map_err(|e| format!("`{attr}`: {e}"))?;
        Ok(Body {
            plan: Arc::new(plan),
            picks,
            formal: graph.inputs.len(),
            outputs: graph.outputs.len(),
            output_info: graph.outputs.clone(),
        })
    }

    /// Runs the body on its formal inputs and the node's implicit values.
    pub(crate) fn run(
        &self,
        mut formal: Vec<Value>,
        implicit: &[Value],
    ) -> Result<Vec<Value>, String> {
        if formal.len() != self.formal {
            return Err(format!(
                "the subgraph takes {} inputs, {} were given",
                self.formal,
                formal.len()
            ));
        }
        for &k in &self.picks {
            let v = implicit
                .get(k)
                .ok_or("an enclosing-scope value was not passed")?;
            formal.push(v.clone());
        }
        self.plan.execute(formal, None).map_err(|e| e.to_string())
    }
}

/// Splits an invocation's inputs into the node's own (`explicit` positions, `None` where
/// omitted) and the implicit values after them.
pub(crate) fn split_inputs(
    ins: Inputs,
    explicit: usize,
) -> Result<(Vec<Option<Value>>, Vec<Value>), String> {
    let mut all = ins.into_values();
    let implicit = all.split_off(explicit.min(all.len()));
    let implicit = implicit
        .into_iter()
        .map(|v| v.ok_or_else(|| "an enclosing-scope value was not computed".to_string()))
        .collect::<Result<_, _>>()?;
    Ok((all, implicit))
}

/// The truth value of a one-element condition tensor.
pub(crate) fn truth(v: &Value, what: &str) -> Result<bool, String> {
    let values = v.to_f64_vec().map_err(|e| format!("`{what}`: {e}"))?;
    match values.as_slice() {
        [x] => Ok(*x != 0.0),
        other => Err(format!(
            "`{what}` must hold one element, found {}",
            other.len()
        )),
    }
}

/// `If(cond)`: runs `then_branch` or `else_branch`, whose outputs are the node's.
pub fn if_op(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let then_branch = Body::compile(ctx, "then_branch")?;
    let else_branch = Body::compile(ctx, "else_branch")?;
    if then_branch.outputs != else_branch.outputs {
        return Err(format!(
            "the branches have {} and {} outputs",
            then_branch.outputs, else_branch.outputs
        ));
    }
    let explicit = ctx.node.inputs.len();
    op(move |ins| {
        let (mut own, implicit) = split_inputs(ins, explicit)?;
        let cond = own
            .get_mut(0)
            .and_then(Option::take)
            .ok_or("the condition input is missing")?;
        let branch = if truth(&cond, "cond")? {
            &then_branch
        } else {
            &else_branch
        };
        branch.run(Vec::new(), &implicit)
    })
}
