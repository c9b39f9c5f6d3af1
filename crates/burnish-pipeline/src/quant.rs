//! The quantization hook: `--quantize MODE` becomes a variant that runs on burnish's int8
//! ops. The optimized model is unfused to standard ops, quantized to ONNX QDQ by
//! `burnish-quant`, and its QDQ patterns lowered to int8 ops for execution.

use std::path::Path;

use burnish_model::Model;
use burnish_optimizer::lower_for_export;
use burnish_quant::{Calibration, QuantConfig, QuantRecord, lower_qdq, quantize as quantize_qdq};

use crate::error::PipelineError;

/// Quantizes `optimized` with `mode` (static modes read `calibration`); returns the model to
/// execute and the quantizer's record.
pub fn quantize(
    mode: &str,
    optimized: &Model,
    calibration: Option<&Path>,
) -> Result<(Model, QuantRecord), PipelineError> {
    let err = |message: String| PipelineError::Quantize {
        mode: mode.to_string(),
        message,
    };
    let cfg = QuantConfig {
        mode: mode
            .parse()
            .map_err(|e: burnish_quant::QuantError| err(e.to_string()))?,
        target: burnish_quant::QdqTarget::Burnish,
        ..QuantConfig::default()
    };
    let calibration = match calibration {
        Some(path) => Some(
            Calibration::from_npz(path).map_err(|e| PipelineError::data(path, e.to_string()))?,
        ),
        None if cfg.mode.needs_calibration() => {
            return Err(err(
                "needs calibration data: pass `--calibration data.npz`".into()
            ));
        }
        None => None,
    };
    let base = lower_for_export(optimized, false);
    let (mut model, record) =
        quantize_qdq(&base, &cfg, calibration.as_ref()).map_err(|e| err(e.to_string()))?;
    lower_qdq(&mut model).map_err(|e| err(format!("lowering QDQ to int8 ops: {e}")))?;
    Ok((model, record))
}
