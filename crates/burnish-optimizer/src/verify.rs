//! Graph consistency: the invariants every pass must keep.

use std::collections::HashSet;

use burnish_model::Graph;

use crate::error::VerifyError;

/// Checks that every node input is defined before use, every value is defined once, and every
/// graph output is produced. Returns the first broken rule.
pub(crate) fn verify_graph(graph: &Graph) -> Result<(), VerifyError> {
    let mut defined: HashSet<&str> = HashSet::new();
    for v in &graph.inputs {
        if !defined.insert(&v.name) {
            return Err(VerifyError::DuplicateInput(v.name.clone()));
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
                return Err(VerifyError::UsedBeforeDefined {
                    node: node.name.clone(),
                    op: node.op_type.clone(),
                    value: input.clone(),
                });
            }
        }
        for out in node.outputs.iter().filter(|s| !s.is_empty()) {
            if !defined.insert(out) {
                return Err(VerifyError::DefinedTwice {
                    value: out.clone(),
                    node: node.name.clone(),
                });
            }
        }
    }
    let mut seen = HashSet::new();
    for o in &graph.outputs {
        if !defined.contains(o.name.as_str()) {
            return Err(VerifyError::OutputNotProduced(o.name.clone()));
        }
        if !seen.insert(&o.name) {
            return Err(VerifyError::DuplicateOutput(o.name.clone()));
        }
    }
    Ok(())
}
