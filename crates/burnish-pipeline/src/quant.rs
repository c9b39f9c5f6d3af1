//! The quantization hook: a quantized [`crate::VariantKind`] becomes a variant that runs on
//! burnish's int8 ops, by `burnish_quant::quantize_for_burnish`.

use std::collections::BTreeMap;

use burnish_model::{Model, Samples};
use burnish_quant::fallback::{FallbackOptions, FallbackRecord, float_fallback};
use burnish_quant::{Calibration, QuantConfig, QuantMode, QuantRecord, quantize_for_burnish};

use crate::config::PipelineConfig;
use crate::error::PipelineError;

/// Most samples of the pipeline's input data used to calibrate static int8.
pub const CALIBRATION_SAMPLES: usize = 64;

/// The calibration data for static int8 and a note saying where it comes from: the
/// `--calibration` file, else the first [`CALIBRATION_SAMPLES`] samples of the input data
/// (with a warning that held-out data is better); `None` without either.
pub fn calibration(
    cfg: &PipelineConfig,
    data: Option<&Samples>,
) -> Result<Option<(Calibration, String)>, PipelineError> {
    if let Some(path) = &cfg.calibration {
        let c =
            Calibration::from_npz(path).map_err(|e| PipelineError::data(path, e.to_string()))?;
        let note = format!("static int8 calibrated on `{}`", path.display());
        return Ok(Some((c, note)));
    }
    let Some(data) = data else {
        return Ok(None);
    };
    let n = data.rows().min(CALIBRATION_SAMPLES);
    let rows: Vec<usize> = (0..n).collect();
    let inputs: BTreeMap<_, _> = data
        .take(&rows)
        .map_err(|e| PipelineError::data(std::path::Path::new(data.source()), e.to_string()))?;
    let note = format!(
        "static int8 calibrated on {n} sample(s) of `{}` (the --inputs data, which the fidelity \
         check also uses: held-out calibration data, `--calibration FILE.npz`, makes that check \
         fairer{})",
        data.source(),
        if n < 16 {
            "; a few hundred representative samples give better ranges"
        } else {
            ""
        }
    );
    Ok(Some((
        Calibration {
            source: data.source().to_string(),
            inputs,
        },
        note,
    )))
}

/// Quantizes `optimized` with `mode` (static int8 reads `calibration`); returns the model to
/// execute, the quantizer's record, and what the float fallback did when `floor` samples are
/// given ([`burnish_quant::fallback`]: nodes kept in float until the quantized model meets the
/// fidelity floor on them, its search bounded by `search_limit`).
pub fn quantize(
    mode: QuantMode,
    optimized: &Model,
    calibration: Option<&Calibration>,
    floor: Option<&Samples>,
    search_limit: Option<std::time::Duration>,
) -> Result<(Model, QuantRecord, Option<FallbackRecord>), PipelineError> {
    let err = |message: String| PipelineError::Quantize {
        mode: mode.to_string(),
        message,
    };
    if mode.needs_calibration() && calibration.is_none() {
        return Err(err(
            "needs calibration data: pass `--calibration data.npz` or `--inputs data.npz`".into(),
        ));
    }
    let cfg = QuantConfig {
        mode,
        target: burnish_quant::QdqTarget::Burnish,
        ..QuantConfig::default()
    };
    if let Some(samples) = floor.filter(|_| mode.is_int8()) {
        let f = float_fallback(
            optimized,
            &cfg,
            calibration,
            samples,
            &FallbackOptions {
                time_limit: search_limit.or(FallbackOptions::default().time_limit),
                ..FallbackOptions::default()
            },
        )
        .map_err(|e| err(e.to_string()))?;
        return Ok((f.quantized.executed, f.quantized.record, Some(f.record)));
    }
    let q = quantize_for_burnish(optimized, &cfg, calibration).map_err(|e| err(e.to_string()))?;
    Ok((q.executed, q.record, None))
}
