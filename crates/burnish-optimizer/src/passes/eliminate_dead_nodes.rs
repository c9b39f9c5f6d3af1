//! `eliminate_dead_nodes`: removes nodes whose outputs reach no graph output, and initializers
//! nothing reads.
//!
//! ```text
//!   x ──> A ──> y (graph output)       x ──> A ──> y
//!   x ──> B ──> z (unused)       =>
//! ```
//!
//! Refuses nothing: every node is side-effect free in ONNX. Exact.

use std::collections::HashSet;

use burnish_model::Model;

use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct EliminateDeadNodes;

impl Pass for EliminateDeadNodes {
    fn name(&self) -> &'static str {
        "eliminate_dead_nodes"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        let graph = &mut model.graph;
        let mut live: HashSet<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
        let mut keep = vec![false; graph.nodes.len()];
        for (i, node) in graph.nodes.iter().enumerate().rev() {
            if node.outputs.iter().any(|o| live.contains(o)) {
                keep[i] = true;
                live.extend(node.inputs.iter().filter(|s| !s.is_empty()).cloned());
                if node.has_subgraphs() {
                    live.extend(node.implicit_inputs());
                }
            }
        }
        let before = graph.nodes.len() + graph.initializers.len();
        let mut k = keep.into_iter();
        graph.nodes.retain(|_| k.next().unwrap_or(true));
        let inputs: HashSet<&str> = graph.inputs.iter().map(|i| i.name.as_str()).collect();
        graph
            .initializers
            .retain(|name, _| live.contains(name) || inputs.contains(name.as_str()));
        Ok(before - graph.nodes.len() - graph.initializers.len())
    }
}
