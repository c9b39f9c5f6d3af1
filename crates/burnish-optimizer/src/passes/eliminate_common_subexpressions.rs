//! `eliminate_common_subexpressions`: merges nodes that apply the same op, with the same
//! attributes, to the same inputs.
//!
//! ```text
//!   x ──> Shape ──> a            x ──> Shape ──> a ──> ...
//!   x ──> Shape ──> b     =>                   └──> (readers of b)
//! ```
//!
//! Refuses: nodes without inputs (sources are left to `fold_constants`), nodes with subgraphs,
//! and duplicates whose outputs are graph outputs. Exact: ONNX ops are pure.

use std::collections::HashMap;

use burnish_model::{Attribute, Model};

use crate::rewrite::Editor;
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct EliminateCommonSubexpressions;

impl Pass for EliminateCommonSubexpressions {
    fn name(&self) -> &'static str {
        "eliminate_common_subexpressions"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        let mut g = Editor::new(&mut model.graph);
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        let mut changes = 0;
        let mut i = 0;
        while i < g.len() {
            if g.is_removed(i) {
                i += 1;
                continue;
            }
            let node = g.node(i);
            if node.inputs.iter().all(|s| s.is_empty())
                || node
                    .attrs
                    .values()
                    .any(|a| matches!(a, Attribute::Graph(_)))
            {
                i += 1;
                continue;
            }
            let key = format!(
                "{}|{}|{:?}|{:?}|{:?}",
                node.domain,
                node.op_type,
                node.inputs,
                node.outputs
                    .iter()
                    .map(String::is_empty)
                    .collect::<Vec<_>>(),
                node.attrs
            );
            match seen.get(&key) {
                Some(first) if !node.outputs.iter().any(|o| g.is_graph_output(o)) => {
                    let pairs: Vec<(String, String)> = node
                        .outputs
                        .iter()
                        .cloned()
                        .zip(first.iter().cloned())
                        .collect();
                    g.remove(i);
                    for (dup, keep) in pairs {
                        if !dup.is_empty() && !keep.is_empty() {
                            g.replace_uses(&dup, &keep);
                        }
                    }
                    changes += 1;
                    i += 1;
                }
                Some(_) => i += 1,
                None => {
                    seen.insert(key, node.outputs.clone());
                    i += 1;
                }
            }
        }
        g.finish();
        Ok(changes)
    }
}
