//! Graph queries and small edits shared by the graph rewriters (optimizer passes, the
//! quantizer, the runtime's QDQ lowering): constants, readers, fresh names, dead-node removal.

use std::collections::HashSet;
use std::sync::Arc;

use crate::{Graph, Node, TensorData};

/// True when `node` is the default-domain op `op` (empty domain or `ai.onnx`).
pub fn is_op(node: &Node, op: &str) -> bool {
    node.op_type == op && (node.domain.is_empty() || node.domain == "ai.onnx")
}

/// The constant value of `name`: an initializer that is not also a graph input.
pub fn constant<'g>(graph: &'g Graph, name: &str) -> Option<&'g Arc<TensorData>> {
    if graph.inputs.iter().any(|i| i.name == name) {
        return None;
    }
    graph.initializers.get(name)
}

/// True when `name` is a graph output.
pub fn is_graph_output(graph: &Graph, name: &str) -> bool {
    graph.outputs.iter().any(|o| o.name == name)
}

/// True when a subgraph of `node` reads the enclosing value `name`.
pub fn reads_implicitly(node: &Node, name: &str) -> bool {
    node.has_subgraphs() && node.implicit_inputs().iter().any(|n| n == name)
}

/// Number of readers of `name`: node inputs (a node whose subgraphs read it counts once more)
/// plus graph outputs.
pub fn use_count(graph: &Graph, name: &str) -> usize {
    let nodes: usize = graph
        .nodes
        .iter()
        .map(|n| {
            n.inputs.iter().filter(|i| *i == name).count() + usize::from(reads_implicitly(n, name))
        })
        .sum();
    nodes + graph.outputs.iter().filter(|o| o.name == name).count()
}

/// True when value `name` is read exactly once, by a node, and is not a graph output.
pub fn single_use(graph: &Graph, name: &str) -> bool {
    !is_graph_output(graph, name) && use_count(graph, name) == 1
}

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

/// A default-domain node without attributes.
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

/// Row-major `[cols, rows]` from row-major `[rows, cols]`.
pub fn transpose<T: Copy>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..rows * cols)
        .map(|i| v[(i % rows) * cols + i / rows])
        .collect()
}
