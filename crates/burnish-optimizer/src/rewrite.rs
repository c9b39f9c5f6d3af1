//! Small graph-editing helpers shared by the passes.

use std::sync::Arc;

use burnish_model::{Graph, Node, TensorData};

/// A value name not yet used in `graph`, derived from `base`.
pub fn fresh_name(graph: &Graph, base: &str) -> String {
    let taken = |n: &str| {
        graph.initializers.contains_key(n)
            || graph.inputs.iter().any(|i| i.name == n)
            || graph
                .nodes
                .iter()
                .any(|node| node.outputs.iter().any(|o| o == n))
    };
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("an unused name exists")
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

/// The constant value of `name`: an initializer that is not also a graph input.
pub fn constant<'g>(graph: &'g Graph, name: &str) -> Option<&'g Arc<TensorData>> {
    if graph.inputs.iter().any(|i| i.name == name) {
        return None;
    }
    graph.initializers.get(name)
}

/// Index of the node producing `name`.
pub fn producer(graph: &Graph, name: &str) -> Option<usize> {
    graph
        .nodes
        .iter()
        .position(|n| n.outputs.iter().any(|o| o == name))
}

/// Indices of the nodes reading `name`.
pub fn consumers(graph: &Graph, name: &str) -> Vec<usize> {
    graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.inputs.iter().any(|i| i == name) || reads_implicitly(n, name))
        .map(|(i, _)| i)
        .collect()
}

/// Rewrites every node input `old` to `new`, in subgraphs too.
pub fn replace_uses(graph: &mut Graph, old: &str, new: &str) {
    for node in &mut graph.nodes {
        for input in &mut node.inputs {
            if input == old {
                *input = new.to_string();
            }
        }
        rename_in_subgraphs(node, old, new);
    }
}

fn rename_in_subgraphs(node: &mut Node, old: &str, new: &str) {
    for attr in node.attrs.values_mut() {
        if let burnish_model::Attribute::Graph(g) = attr {
            g.rename_free_uses(old, new);
        }
    }
}

/// Removes node `idx` whose first output equals `src` in value, making readers of that output
/// read `src`. When the output is a graph output, `src` is renamed to it instead (possible only
/// when `src` is a plain node output). Returns false, changing nothing, when neither works or
/// the node has other used outputs.
pub fn forward_node(graph: &mut Graph, idx: usize, src: &str) -> bool {
    let node = &graph.nodes[idx];
    if node
        .outputs
        .iter()
        .skip(1)
        .any(|o| !o.is_empty() && use_count(graph, o) > 0)
    {
        return false;
    }
    let out = node.outputs[0].clone();
    if !is_graph_output(graph, &out) {
        graph.nodes.remove(idx);
        replace_uses(graph, &out, src);
        return true;
    }
    let pinned = is_graph_output(graph, src)
        || graph.inputs.iter().any(|i| i.name == src)
        || graph.initializers.contains_key(src);
    if pinned {
        return false;
    }
    graph.nodes.remove(idx);
    for node in &mut graph.nodes {
        for v in node.inputs.iter_mut().chain(node.outputs.iter_mut()) {
            if v == src {
                *v = out.clone();
            }
        }
        rename_in_subgraphs(node, src, &out);
    }
    true
}

/// Merges `second` into `first`: `first` takes over `second`'s outputs and `second` is removed.
/// Valid only when `first`'s output is read by `second` alone and is not a graph output (see
/// [`single_use`]).
pub fn absorb(graph: &mut Graph, first: usize, second: usize) {
    let outs = graph.nodes[second].outputs.clone();
    graph.nodes[first].outputs = outs;
    graph.nodes.remove(second);
}

/// True when value `name` is read exactly once, by a node, and is not a graph output.
pub fn single_use(graph: &Graph, name: &str) -> bool {
    !is_graph_output(graph, name) && use_count(graph, name) == 1
}

/// A node in the default domain with the given op type.
pub fn is_op(node: &Node, op: &str) -> bool {
    node.op_type == op && (node.domain.is_empty() || node.domain == "ai.onnx")
}

/// A float32 scalar-like constant's single value (any shape with one element).
pub fn scalar_f32(t: &TensorData) -> Option<f32> {
    match t.as_f32() {
        Some([v]) => Some(*v),
        _ => None,
    }
}

/// Applies `f` at every node index until it reports no rewrite; `f` returns `Ok(true)` after
/// rewriting (the scan then resumes at the same index, as nodes may have moved). Returns the
/// number of rewrites.
pub fn rewrite_each<E>(
    graph: &mut Graph,
    mut f: impl FnMut(&mut Graph, usize) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut changes = 0;
    let mut i = 0;
    let cap = 4 * graph.nodes.len() + 1000;
    while i < graph.nodes.len() && changes < cap {
        if f(graph, i)? {
            changes += 1;
        } else {
            i += 1;
        }
    }
    Ok(changes)
}
