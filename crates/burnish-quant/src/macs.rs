//! MAC counts of the quantization decisions, from one profiled run of the float model.

use std::collections::HashMap;

use burnish_eval::seeded_inputs;
use burnish_model::Model;
use burnish_runtime::SessionOptions;
use burnish_runtime::macs::step_macs;

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
    let steps = step_macs(model, SessionOptions::default(), &inputs).map_err(|source| {
        QuantError::Runtime {
            context: "running the float model to count MACs".into(),
            source,
        }
    })?;
    let total = steps.iter().map(|s| s.macs).sum::<u64>();
    let per_node: HashMap<String, u64> = steps.into_iter().map(|s| (s.name, s.macs)).collect();
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
