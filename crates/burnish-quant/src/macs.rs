//! MAC counts of the quantization decisions, from one profiled run of the float model.

use std::collections::HashMap;

use burnish_eval::seeded_inputs;
use burnish_model::Model;
use burnish_model::cost::node_macs;
use burnish_runtime::{Session, SessionOptions};

use crate::record::NodeDecision;
use crate::{Calibration, QuantError};

/// Fills `macs` of every decision from a run on the first calibration batch (or seeded random
/// inputs); returns all MACs and the share of the quantized nodes'.
pub fn fill(
    model: &Model,
    calibration: Option<&Calibration>,
    decisions: &mut [NodeDecision],
) -> Result<(u64, f64), QuantError> {
    let inputs = match calibration {
        Some(c) => c.batches(model, 1)?.swap_remove(0),
        None => seeded_inputs(model, 0)?,
    };
    let rt = |source| QuantError::Runtime {
        context: "running the float model to count MACs".into(),
        source,
    };
    let session = Session::new(model, SessionOptions::default()).map_err(rt)?;
    let values = session.prepare_inputs(&inputs).map_err(rt)?;
    let (_, timings) = session.run_profiled(values).map_err(rt)?;
    let nodes: HashMap<&str, &burnish_model::Node> = model
        .graph
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let mut per_node = HashMap::new();
    let mut total = 0u64;
    for t in &timings {
        let attrs = nodes.get(t.name.as_str()).map(|n| &n.attrs);
        let Some(attrs) = attrs else { continue };
        if let Some(m) = node_macs(&t.op_type, attrs, &t.input_shapes, &t.output_shapes) {
            total += m;
            per_node.insert(t.name.clone(), m);
        }
    }
    let mut quantized = 0u64;
    for d in decisions.iter_mut() {
        d.macs = per_node.get(&d.node).copied();
        if d.quantized {
            quantized += d.macs.unwrap_or(0);
        }
    }
    let share = if total > 0 {
        quantized as f64 / total as f64
    } else {
        0.0
    };
    Ok((total, share))
}
