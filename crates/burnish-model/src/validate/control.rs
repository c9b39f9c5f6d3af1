//! Control flow: the subgraphs of `If`, `Loop` and `Scan` have as many inputs and outputs as
//! the node needs.

use crate::graph::{Graph, Node};

pub(super) fn check(node: &Node) -> Result<(), String> {
    let graph = |name: &str| match node.attrs.get(name) {
        Some(crate::Attribute::Graph(g)) => Some(g.as_ref()),
        _ => None,
    };
    let outputs = node.outputs.len();
    match node.op_type.as_str() {
        "If" => {
            for branch in ["then_branch", "else_branch"] {
                if let Some(g) = graph(branch)
                    && g.outputs.len() != outputs
                {
                    return Err(format!(
                        "`{branch}` has {} outputs, the node {outputs}",
                        g.outputs.len()
                    ));
                }
            }
            Ok(())
        }
        "Loop" => graph("body").map_or(Ok(()), |body| loop_body(node, body)),
        "Scan" => graph("body").map_or(Ok(()), |body| scan_body(node, body)),
        _ => Ok(()),
    }
}

/// `Loop(M, cond, v...)`: the body takes `(iteration, cond, v...)` and gives
/// `(cond, v..., scan outputs...)`; the node gives `(v..., scan outputs...)`.
fn loop_body(node: &Node, body: &Graph) -> Result<(), String> {
    let carried = node.inputs.len().saturating_sub(2);
    if body.inputs.len() != carried + 2 {
        return Err(format!(
            "`body` has {} inputs; with {carried} loop-carried values it needs {}",
            body.inputs.len(),
            carried + 2
        ));
    }
    let scans = body.outputs.len().checked_sub(1 + carried).ok_or_else(|| {
        format!(
            "`body` has {} outputs; with {carried} loop-carried values it needs at least {}",
            body.outputs.len(),
            carried + 1
        )
    })?;
    if node.outputs.len() != carried + scans {
        return Err(format!(
            "has {} outputs; its body gives {carried} loop-carried values and {scans} scan outputs",
            node.outputs.len()
        ));
    }
    Ok(())
}

/// `Scan`: the body takes one input per node input (state and scan inputs alike) and gives
/// one output per node output.
fn scan_body(node: &Node, body: &Graph) -> Result<(), String> {
    let scan_inputs = crate::attr::AttrExt::int_or(&node.attrs, "num_scan_inputs", 0).unwrap_or(0);
    // Opset 8 Scan takes an optional sequence-lengths input first.
    let first = usize::from(node.inputs.len() > body.inputs.len());
    if body.inputs.len() + first != node.inputs.len() || scan_inputs < 1 {
        return Err(format!(
            "`body` has {} inputs for {} node inputs ({scan_inputs} scanned)",
            body.inputs.len(),
            node.inputs.len()
        ));
    }
    if body.outputs.len() != node.outputs.len() {
        return Err(format!(
            "`body` has {} outputs, the node {}",
            body.outputs.len(),
            node.outputs.len()
        ));
    }
    Ok(())
}
