//! Sequence- and optional-typed graph inputs reach only the ops that take containers.

use crate::graph::Graph;

/// Default-domain ops that accept a sequence or optional value as an input.
const TAKES_CONTAINERS: &[&str] = &[
    "ConcatFromSequence",
    "Identity",
    "If",
    "Loop",
    "Optional",
    "OptionalGetElement",
    "OptionalHasElement",
    "SequenceAt",
    "SequenceErase",
    "SequenceInsert",
    "SequenceLength",
    "SequenceMap",
];

/// Checks that the main graph's non-tensor inputs (declared as sequences or optionals, so
/// without an element type) feed only ops that accept containers; returns the first node that
/// reads one as a tensor and its message.
pub(super) fn check(graph: &Graph) -> Result<(), (usize, String)> {
    let containers: Vec<&str> = graph
        .inputs
        .iter()
        .filter(|i| i.dtype.is_none())
        .map(|i| i.name.as_str())
        .collect();
    if containers.is_empty() {
        return Ok(());
    }
    for (index, node) in graph.nodes.iter().enumerate() {
        if !node.domain.is_empty() || TAKES_CONTAINERS.contains(&node.op_type.as_str()) {
            continue;
        }
        if let Some(name) = node
            .inputs
            .iter()
            .find(|i| containers.contains(&i.as_str()))
        {
            return Err((
                index,
                format!(
                    "input `{name}` is a sequence or optional graph input, but {} takes tensors",
                    node.op_type
                ),
            ));
        }
    }
    Ok(())
}
