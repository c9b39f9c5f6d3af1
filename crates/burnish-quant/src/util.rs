//! Graph-editing helpers of the quantizer.

use std::collections::HashSet;
use std::sync::Arc;

use burnish_model::{Attribute, Graph, Node, TensorData};

/// Hands out value and node names not yet used in a graph.
pub struct Namer {
    taken: HashSet<String>,
}

impl Namer {
    /// Every name `graph` already uses.
    pub fn new(graph: &Graph) -> Self {
        let mut taken: HashSet<String> = graph.initializers.keys().cloned().collect();
        taken.extend(graph.inputs.iter().map(|i| i.name.clone()));
        taken.extend(graph.outputs.iter().map(|o| o.name.clone()));
        for n in &graph.nodes {
            taken.insert(n.name.clone());
            taken.extend(n.outputs.iter().cloned());
            taken.extend(n.inputs.iter().cloned());
        }
        Self { taken }
    }

    /// `base`, or `base_1`, `base_2`, ... whichever is free; the name is then taken.
    pub fn fresh(&mut self, base: &str) -> String {
        let name = if self.taken.contains(base) {
            (1..)
                .map(|i| format!("{base}_{i}"))
                .find(|n| !self.taken.contains(n))
                .expect("an unused name exists")
        } else {
            base.to_string()
        };
        self.taken.insert(name.clone());
        name
    }
}

/// A default-domain node.
pub fn node(name: String, op: &str, inputs: Vec<String>, outputs: Vec<String>) -> Node {
    Node {
        name,
        op_type: op.to_string(),
        domain: String::new(),
        inputs,
        outputs,
        attrs: Default::default(),
    }
}

/// Adds an initializer under a fresh name derived from `base`; returns the name.
pub fn add_const(graph: &mut Graph, namer: &mut Namer, base: &str, t: TensorData) -> String {
    let name = namer.fresh(base);
    graph.initializers.insert(name.clone(), Arc::new(t));
    name
}

/// An int attribute.
pub fn int_attr(node: &mut Node, key: &str, v: i64) {
    node.attrs.insert(key.to_string(), Attribute::Int(v));
}

/// Removes nodes whose outputs reach no graph output and initializers nothing reads (reads
/// from inside a subgraph count).
pub fn remove_dead(graph: &mut Graph) {
    let mut live: HashSet<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
    let mut keep = vec![false; graph.nodes.len()];
    for (i, n) in graph.nodes.iter().enumerate().rev() {
        if n.outputs.iter().any(|o| live.contains(o)) {
            keep[i] = true;
            live.extend(n.inputs.iter().filter(|s| !s.is_empty()).cloned());
            if n.has_subgraphs() {
                live.extend(n.implicit_inputs());
            }
        }
    }
    let mut k = keep.into_iter();
    graph.nodes.retain(|_| k.next().unwrap_or(true));
    let inputs: HashSet<String> = graph.inputs.iter().map(|i| i.name.clone()).collect();
    graph
        .initializers
        .retain(|name, _| live.contains(name) || inputs.contains(name));
}

/// True when `node` is the default-domain op `op`.
pub fn is(node: &Node, op: &str) -> bool {
    node.op_type == op && (node.domain.is_empty() || node.domain == "ai.onnx")
}
