//! Small graph-editing helpers shared by the passes.

use burnish_model::{Graph, TensorData};

pub use crate::index::{Editor, rename_in_subgraphs};
pub use burnish_model::query::{
    constant, is_graph_output, is_op, reads_implicitly, single_use, use_count,
};

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
    unused_name(base, taken)
}

/// `base`, or the first of `base_1`, `base_2`, ... that `taken` does not claim.
pub(crate) fn unused_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .expect("an unused name exists")
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

/// Removes node `idx` whose first output equals `src` in value, making readers of that output
/// read `src`. When the output is a graph output, `src` is renamed to it instead (possible only
/// when `src` is a plain node output). Returns false, changing nothing, when neither works or
/// the node has other used outputs.
pub fn forward_node(ed: &mut Editor, idx: usize, src: &str) -> bool {
    let node = ed.node(idx);
    if node
        .outputs
        .iter()
        .skip(1)
        .any(|o| !o.is_empty() && ed.use_count(o) > 0)
    {
        return false;
    }
    let out = node.outputs[0].clone();
    if !ed.is_graph_output(&out) {
        ed.remove(idx);
        ed.replace_uses(&out, src);
        return true;
    }
    let pinned = ed.is_graph_output(src)
        || ed.is_graph_input(src)
        || ed.graph().initializers.contains_key(src);
    if pinned {
        return false;
    }
    ed.remove(idx);
    ed.rename_value(src, &out);
    true
}

/// Merges `second` into `first`: `first` takes over `second`'s outputs and `second` is removed.
/// Valid only when `first`'s output is read by `second` alone and is not a graph output (see
/// [`Editor::single_use`]).
pub fn absorb(ed: &mut Editor, first: usize, second: usize) {
    let outs = ed.node(second).outputs.clone();
    ed.remove(second);
    ed.edit(first, |n| n.outputs = outs);
}

/// A float32 scalar-like constant's single value (any shape with one element).
pub fn scalar_f32(t: &TensorData) -> Option<f32> {
    match t.as_f32() {
        Some([v]) => Some(*v),
        _ => None,
    }
}

/// Applies `f` at every node index until it reports no rewrite; `f` returns `Ok(true)` after
/// rewriting (the scan then resumes at the same index: the node there may have changed).
/// `f` edits through the [`Editor`], whose index keeps every lookup O(1). Returns the number
/// of rewrites.
pub fn rewrite_each<E>(
    graph: &mut Graph,
    mut f: impl FnMut(&mut Editor, usize) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut ed = Editor::new(graph);
    let mut changes = 0;
    let mut i = 0;
    let cap = 4 * ed.len() + 1000;
    while i < ed.len() && changes < cap {
        if ed.is_removed(i) {
            i += 1;
        } else if f(&mut ed, i)? {
            changes += 1;
        } else {
            i += 1;
        }
    }
    ed.finish();
    Ok(changes)
}
