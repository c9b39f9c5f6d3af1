//! `fold_shape_subgraphs`: replaces shape computations whose result does not depend on any
//! symbolic dimension by constants.
//!
//! ```text
//!   x[?, 32] ──> Shape ──> Gather(1) ──> Unsqueeze ──> Concat ──> Reshape
//!                           (= 32 in every probe)
//!   =>  Gather's output becomes the initializer [32]; fold_constants finishes the chain
//! ```
//!
//! A value is *shape-derived* when it is the output of `Shape`/`Size`, or of a node whose
//! inputs are all shape-derived or constant. Shape-derived values that are identical in every
//! probe run (see [`crate::probe`]: symbolic dims take two different sizes) are folded. Refuses:
//! values that change with a symbolic dim (`Shape(x)[0]` for `x[batch, 32]`), graph outputs,
//! folded values above `max_fold_bytes`, and models the runtime cannot probe. Exact for the
//! declared fixed dims.

use std::collections::HashSet;
use std::sync::Arc;

use burnish_model::Model;

use crate::rewrite::{constant, is_graph_output};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FoldShapeSubgraphs;

impl Pass for FoldShapeSubgraphs {
    fn name(&self) -> &'static str {
        "fold_shape_subgraphs"
    }

    fn run(
        &self,
        model: &mut Model,
        ctx: &PassContext,
        cache: &ProbeCache,
    ) -> Result<usize, OptError> {
        let g = &model.graph;
        if !g
            .nodes
            .iter()
            .any(|n| n.op_type == "Shape" || n.op_type == "Size")
        {
            return Ok(0);
        }
        let mut derived: HashSet<String> = HashSet::new();
        let mut folds = Vec::new();
        for (i, node) in g.nodes.iter().enumerate() {
            let is_source = node.op_type == "Shape" || node.op_type == "Size";
            let implicit = if node.has_subgraphs() {
                node.implicit_inputs()
            } else {
                Vec::new()
            };
            let inputs: Vec<&String> = node
                .inputs
                .iter()
                .chain(&implicit)
                .filter(|s| !s.is_empty())
                .collect();
            let from_shapes = is_source
                || (inputs.iter().any(|v| derived.contains(*v))
                    && inputs
                        .iter()
                        .all(|v| derived.contains(*v) || constant(g, v).is_some()));
            if from_shapes {
                derived.extend(node.outputs.iter().filter(|o| !o.is_empty()).cloned());
                folds.push(i);
            }
        }
        if folds.is_empty() {
            return Ok(0);
        }
        let Some(probe) = cache.get(model) else {
            return Ok(0);
        };
        let g = &mut model.graph;
        let mut removed = Vec::new();
        for i in folds {
            let node = &g.nodes[i];
            let outs: Vec<&String> = node.outputs.iter().filter(|o| !o.is_empty()).collect();
            let values: Option<Vec<_>> = outs
                .iter()
                .map(|o| {
                    probe
                        .static_value(o)
                        .filter(|t| t.byte_size() <= ctx.max_fold_bytes && !is_graph_output(g, o))
                })
                .collect();
            let Some(values) = values else { continue };
            let pairs: Vec<_> = outs
                .iter()
                .map(|o| (*o).clone())
                .zip(values.into_iter().cloned())
                .collect();
            for (name, t) in pairs {
                g.initializers.insert(name, Arc::new(t));
            }
            removed.push(i);
        }
        let gone: HashSet<usize> = removed.iter().copied().collect();
        let mut index = 0..;
        g.nodes
            .retain(|_| !gone.contains(&index.next().unwrap_or(usize::MAX)));
        Ok(removed.len())
    }
}
