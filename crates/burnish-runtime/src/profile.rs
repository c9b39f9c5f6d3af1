//! Per-node and per-op-type time profiles (`burnish profile`).
//!
//! Timing every node adds a clock read and shape bookkeeping per node, so profiles slightly
//! overstate small ops; use them to find where time goes, and `compare` for A/B verdicts.

use std::collections::BTreeMap;

use burnish_model::Model;
use serde::Serialize;

use crate::error::RuntimeError;
use crate::macs::MacCounter;
use crate::session::Session;
use crate::value::Value;

/// Time of one node, averaged over runs.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    /// Node name as authored.
    pub name: String,
    /// Op type.
    pub op_type: String,
    /// Mean self time, milliseconds.
    pub mean_ms: f64,
    /// Output shapes of the last run.
    pub output_shapes: Vec<Vec<usize>>,
}

/// Time of one op type, summed over its nodes and averaged over runs.
#[derive(Debug, Clone, Serialize)]
pub struct OpRow {
    /// Op type.
    pub op_type: String,
    /// Nodes of this type.
    pub calls: usize,
    /// Mean self time per run, milliseconds.
    pub self_ms: f64,
    /// Share of the total node time.
    pub share: f64,
    /// Multiply-accumulates per run, where defined.
    pub macs: Option<u64>,
    /// Achieved GFLOP/s (2 FLOPs per MAC), where defined.
    pub gflops: Option<f64>,
}

/// A profile of repeated runs.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// Runs averaged.
    pub runs: usize,
    /// Mean total of node times per run, milliseconds.
    pub total_ms: f64,
    /// Per op type, slowest first.
    pub ops: Vec<OpRow>,
    /// Per node, slowest first.
    pub nodes: Vec<NodeRow>,
}

/// Name, op type, total milliseconds, input shapes and output shapes of one node.
type Accumulated = (String, String, f64, Vec<Vec<usize>>, Vec<Vec<usize>>);

/// Runs `session` `runs` times on `inputs` (after one warm-up run) timing every node.
pub fn profile(
    model: &Model,
    session: &Session,
    inputs: &[Value],
    runs: usize,
) -> Result<Profile, RuntimeError> {
    let runs = runs.max(1);
    session.run_profiled(inputs.to_vec())?;
    let mut per_node: Vec<Accumulated> = Vec::new();
    for r in 0..runs {
        let (_, timings) = session.run_profiled(inputs.to_vec())?;
        if r == 0 {
            per_node = timings
                .into_iter()
                .map(|t| {
                    (
                        t.name,
                        t.op_type,
                        t.elapsed.as_secs_f64(),
                        t.input_shapes,
                        t.output_shapes,
                    )
                })
                .collect();
        } else {
            for (row, t) in per_node.iter_mut().zip(timings) {
                row.2 += t.elapsed.as_secs_f64();
            }
        }
    }
    let counter = MacCounter::new(model);
    let total: f64 = per_node.iter().map(|r| r.2).sum::<f64>() / runs as f64;
    let mut ops: BTreeMap<String, (usize, f64, Option<u64>)> = BTreeMap::new();
    let mut nodes = Vec::with_capacity(per_node.len());
    for (name, op_type, secs, ins, outs) in per_node {
        let mean = secs / runs as f64;
        let macs = counter.macs(&name, &op_type, &ins, &outs);
        let e = ops.entry(op_type.clone()).or_insert((0, 0.0, None));
        e.0 += 1;
        e.1 += mean;
        if let Some(m) = macs {
            e.2 = Some(e.2.unwrap_or(0) + m);
        }
        nodes.push(NodeRow {
            name,
            op_type,
            mean_ms: mean * 1e3,
            output_shapes: outs,
        });
    }
    let mut ops: Vec<OpRow> = ops
        .into_iter()
        .map(|(op_type, (calls, secs, macs))| OpRow {
            op_type,
            calls,
            self_ms: secs * 1e3,
            share: if total > 0.0 { secs / total } else { 0.0 },
            macs,
            gflops: macs
                .filter(|_| secs > 0.0)
                .map(|m| 2.0 * m as f64 / secs / 1e9),
        })
        .collect();
    ops.sort_by(|a, b| b.self_ms.total_cmp(&a.self_ms));
    nodes.sort_by(|a, b| b.mean_ms.total_cmp(&a.mean_ms));
    Ok(Profile {
        runs,
        total_ms: total * 1e3,
        ops,
        nodes,
    })
}
