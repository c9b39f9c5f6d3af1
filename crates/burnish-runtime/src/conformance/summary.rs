//! Pass rates per op type over a set of case results, so the gaps are visible.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{CaseResult, Outcome};

/// How the cases that use one op type fared.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpSummary {
    /// The op type (`domain::Op` outside the default domain).
    pub op: String,
    /// Cases using the op that passed.
    pub passed: usize,
    /// Cases using the op that failed.
    pub failed: usize,
    /// Cases using the op that were unsupported.
    pub unsupported: usize,
}

impl OpSummary {
    /// Cases using the op.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.unsupported
    }
}

/// The op types a case's model uses, subgraphs included (empty when the model does not load).
pub fn case_ops(dir: &Path) -> Vec<String> {
    fn collect(g: &burnish_model::Graph, out: &mut Vec<String>) {
        for n in &g.nodes {
            out.push(n.qualified_op());
            for sub in n.subgraphs() {
                collect(sub, out);
            }
        }
    }
    let mut ops = Vec::new();
    if let Ok(model) = burnish_model::load_onnx(dir.join("model.onnx")) {
        collect(&model.graph, &mut ops);
    }
    ops.sort();
    ops.dedup();
    ops
}

/// One row per op type: each case counts once for every op type its model uses. Rows with
/// failures or unsupported cases come first (most first), then by name.
pub fn per_op(results: &[(CaseResult, Vec<String>)]) -> Vec<OpSummary> {
    let mut by_op: BTreeMap<&str, OpSummary> = BTreeMap::new();
    for (result, ops) in results {
        for op in ops {
            let row = by_op.entry(op).or_insert_with(|| OpSummary {
                op: op.clone(),
                ..OpSummary::default()
            });
            match result.outcome {
                Outcome::Pass => row.passed += 1,
                Outcome::Fail { .. } => row.failed += 1,
                Outcome::Unsupported { .. } => row.unsupported += 1,
            }
        }
    }
    let mut rows: Vec<OpSummary> = by_op.into_values().collect();
    rows.sort_by(|a, b| {
        (b.failed + b.unsupported)
            .cmp(&(a.failed + a.unsupported))
            .then_with(|| a.op.cmp(&b.op))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_case_once_per_op() {
        let case = |outcome| CaseResult {
            name: "c".into(),
            outcome,
        };
        let rows = per_op(&[
            (case(Outcome::Pass), vec!["Add".into(), "Mul".into()]),
            (
                case(Outcome::Fail { reason: "x".into() }),
                vec!["Mul".into()],
            ),
        ]);
        assert_eq!(rows[0].op, "Mul");
        assert_eq!((rows[0].passed, rows[0].failed), (1, 1));
        assert_eq!((rows[1].op.as_str(), rows[1].total()), ("Add", 1));
    }
}
