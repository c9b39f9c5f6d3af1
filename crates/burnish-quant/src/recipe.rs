//! The "lower, quantize, lower" recipe, written once: burnish's fused ops are unfused to
//! standard ONNX ([`lower_for_export`]), the model is quantized to QDQ ([`quantize`]), and the
//! QDQ patterns are lowered to the int8 ops burnish executes ([`lower_qdq`]).

use burnish_model::Model;
use burnish_optimizer::lower_for_export;

use crate::{Calibration, LowerRecord, QuantConfig, QuantError, QuantRecord, lower_qdq, quantize};

/// A model quantized for burnish: its QDQ (export) form, the form burnish executes, and the
/// records of both steps.
#[derive(Debug, Clone)]
pub struct Quantized {
    /// The standard QDQ model (what `burnish optimize` writes without `--keep-fused`).
    pub qdq: Model,
    /// `qdq` with its QDQ patterns lowered to burnish's int8 ops.
    pub executed: Model,
    /// What the quantizer decided.
    pub record: QuantRecord,
    /// What the lowering to int8 ops did.
    pub lowering: LowerRecord,
}

/// Quantizes `model` (which may hold burnish's fused ops) as `cfg` says, and lowers the result
/// to the int8 ops burnish executes.
pub fn quantize_for_burnish(
    model: &Model,
    cfg: &QuantConfig,
    calibration: Option<&Calibration>,
) -> Result<Quantized, QuantError> {
    let base = lower_for_export(model, false);
    let (qdq, record) = quantize(&base, cfg, calibration)?;
    let mut executed = qdq.clone();
    let lowering = lower_qdq(&mut executed)?;
    Ok(Quantized {
        qdq,
        executed,
        record,
        lowering,
    })
}
