//! Graph consistency: the invariants every pass must keep.

use std::collections::HashSet;

use burnish_model::Graph;

/// Checks that every node input is defined before use, every value is defined once, and every
/// graph output is produced. Returns the first broken rule.
pub(crate) fn verify_graph(graph: &Graph) -> Result<(), String> {
    let mut defined: HashSet<&str> = HashSet::new();
    for v in &graph.inputs {
        if !defined.insert(&v.name) {
            return Err(format!("graph input `{}` is declared twice", v.name));
        }
    }
    for name in graph.initializers.keys() {
        if graph.inputs.iter().any(|i| &i.name == name) {
            continue;
        }
        defined.insert(name);
    }
    for node in &graph.nodes {
        for input in node.inputs.iter().filter(|s| !s.is_empty()) {
            if !defined.contains(input.as_str()) {
                return Err(format!(
                    "node `{}` ({}) reads `{input}` before it is defined",
                    node.name, node.op_type
                ));
            }
        }
        for out in node.outputs.iter().filter(|s| !s.is_empty()) {
            if !defined.insert(out) {
                return Err(format!(
                    "value `{out}` is defined twice (again by node `{}`)",
                    node.name
                ));
            }
        }
    }
    let mut seen = HashSet::new();
    for o in &graph.outputs {
        if !defined.contains(o.name.as_str()) {
            return Err(format!("graph output `{}` is never produced", o.name));
        }
        if !seen.insert(&o.name) {
            return Err(format!("graph output `{}` is listed twice", o.name));
        }
    }
    Ok(())
}
