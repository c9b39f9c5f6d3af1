//! The record `burnish optimize` writes next to its model (`OUT.json`): what the optimizer,
//! the quantizer and the gate did, and how closely the result follows the original.

use burnish_eval::OutputDiff;
use burnish_optimizer::OptimizationRecord;
use burnish_quant::{LowerRecord, QuantRecord};
use serde::Serialize;

use crate::{GateRecord, ProfileComparison, QuantInspection};

/// "Why is it not faster?": where the quantized model's MACs run, and optionally a per-op
/// profile of the float and the quantized model.
#[derive(Debug, Clone, Serialize)]
pub struct WhyNotFaster {
    /// The quantized model's int8 coverage and Q/DQ boundaries.
    pub inspection: QuantInspection,
    /// Per-op time, float vs quantized (`--profile`).
    pub profile: Option<ProfileComparison>,
}

/// `OUT.json` of `burnish optimize`.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizeOutput {
    /// The input model file.
    pub model: String,
    /// The written model file.
    pub output: String,
    /// Whether fused ops were kept in the `burnish` domain.
    pub keep_fused: bool,
    /// Default-domain opset of the written model.
    pub opset: i64,
    /// What the optimizer did.
    pub record: OptimizationRecord,
    /// Every output against the original model's.
    pub fidelity: Vec<OutputDiff>,
    /// What the quantizer did (`--quantize`).
    pub quantization: Option<QuantRecord>,
    /// What lowering QDQ to int8 ops did (`--keep-fused`).
    pub lowering: Option<LowerRecord>,
    /// The accuracy gate (`--max-accuracy-drop`).
    pub accuracy_gate: Option<GateRecord>,
    /// Int8 coverage and profile of a quantized model.
    pub why_not_faster: Option<WhyNotFaster>,
    /// The quantized model (as burnish runs it) against the original on real samples
    /// (`--inputs`, else the calibration data); `None` without real data.
    pub fidelity_floor: Option<burnish_eval::FidelityFloor>,
    /// The automatic float fallback that brought the quantized model to the floor (or tried
    /// to); `None` when it did not run (no real data, `--no-float-fallback`, an accuracy gate).
    pub float_fallback: Option<burnish_quant::fallback::FallbackRecord>,
}
