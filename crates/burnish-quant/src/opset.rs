//! The opset a quantized graph needs, and raising the model to it (the conversion itself is
//! `burnish_optimizer::convert_opset`).
//!
//! | mode | needs | for |
//! |---|---|---|
//! | `static-int8` | 13 (10 per tensor) | per-axis `DequantizeLinear` of weights and biases |
//! | `dynamic-int8` | 13 (11 per tensor) | `DynamicQuantizeLinear`, per-axis weights |
//! | `int4-weights` | 21 | blocked `DequantizeLinear` (`block_size`) |
//!
//! When the model cannot be raised to 13 (an op with no known conversion), int8 modes fall back
//! to per-tensor weight scales, which opsets 10-12 express, and say so in a note naming the op.

use burnish_model::Model;

use crate::QuantError;
use crate::config::{QuantConfig, QuantMode};

/// The default-domain opset the graph written for `cfg` needs (0: any).
pub fn needed(cfg: &QuantConfig) -> i64 {
    match cfg.mode {
        QuantMode::Int4Weights => 21,
        QuantMode::StaticInt8 | QuantMode::DynamicInt8 if cfg.per_channel => 13,
        QuantMode::DynamicInt8 => 11,
        QuantMode::StaticInt8 => 10,
        QuantMode::F16 | QuantMode::Bf16 => 0,
    }
}

/// Raises `model` to the opset `cfg` needs; per-channel int8 falls back to per-tensor (in
/// `cfg`, with a note) when the model cannot be raised to 13.
pub fn prepare(
    model: &mut Model,
    cfg: &mut QuantConfig,
    notes: &mut Vec<String>,
) -> Result<(), QuantError> {
    let (need, have) = (needed(cfg), model.opset());
    if have >= need {
        return Ok(());
    }
    match burnish_optimizer::convert_opset(model, need) {
        Ok(rec) => {
            let n: usize = rec.rewritten.values().sum();
            let ops: Vec<String> = rec
                .rewritten
                .iter()
                .map(|(op, k)| format!("{k} {op}"))
                .collect();
            notes.push(format!(
                "opset raised from {have} to {need} for the {} graph: {n} node(s) rewritten to the \
                 new forms{}",
                cfg.mode,
                match ops.is_empty() {
                    true => String::new(),
                    false => format!(" ({})", ops.join(", ")),
                }
            ));
            Ok(())
        }
        Err(e) if cfg.mode.is_int8() && cfg.per_channel => {
            cfg.per_channel = false;
            notes.push(format!(
                "per-tensor weight scales: per-axis DequantizeLinear needs opset 13 and the model \
                 (opset {have}) could not be raised: {e}"
            ));
            prepare(model, cfg, notes)
        }
        Err(e) => Err(QuantError::Opset {
            mode: cfg.mode.to_string(),
            need,
            have,
            message: e.to_string(),
        }),
    }
}
