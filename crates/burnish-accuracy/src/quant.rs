//! The accuracy gate over `burnish_quant::quantize`: nodes kept float through
//! `QuantConfig::exclude_nodes`, every candidate evaluated as burnish runs it (QDQ patterns
//! lowered to int8 ops by `burnish_quant::quantize_for_burnish`).

use burnish_eval::Dataset;
use burnish_model::Model;
use burnish_quant::{Calibration, QuantConfig, QuantRecord, Quantized, quantize_for_burnish};

use crate::AccuracyError;
use crate::gate::Candidate;
use crate::gated::{GateOptions, GateOutcome, gate_model};

/// A gated quantization: the standard QDQ model, the quantizer's record for it, and the gate's.
#[derive(Debug, Clone)]
pub struct GatedQuantization {
    /// The QDQ model (export form) of the winner.
    pub qdq: Model,
    /// The quantizer's record of the winner.
    pub quant: QuantRecord,
    /// The gate (its `model` is the lowered, executed form of `qdq`).
    pub gate: GateOutcome,
}

fn quantize_err(float: usize, e: impl std::fmt::Display) -> AccuracyError {
    AccuracyError::Quantize {
        float,
        message: e.to_string(),
    }
}

/// Quantizes `model` as `cfg` says, keeping the fewest nodes in float that hold `opts.budget`
/// on `data` (see [`crate::gate`]). Candidates are the nodes the quantizer quantizes when
/// nothing is excluded beyond `cfg.exclude_nodes`.
pub fn gate_quantization(
    model: &Model,
    cfg: &QuantConfig,
    calibration: Option<&Calibration>,
    data: &Dataset,
    opts: &GateOptions,
) -> Result<GatedQuantization, AccuracyError> {
    let run = |float: &[String]| -> Result<Quantized, AccuracyError> {
        let mut c = cfg.clone();
        c.exclude_nodes.extend(float.iter().cloned());
        quantize_for_burnish(model, &c, calibration).map_err(|e| quantize_err(float.len(), e))
    };
    let full = run(&[])?.record;
    let candidates: Vec<Candidate> = full
        .nodes
        .iter()
        .filter(|n| n.quantized)
        .map(|n| Candidate {
            node: n.node.clone(),
            op_type: n.op_type.clone(),
            macs: n.macs,
        })
        .collect();
    let gate = gate_model(model, data, &candidates, opts, |float| {
        run(float).map(|q| q.executed)
    })?;
    let Quantized { qdq, record, .. } = run(&gate.record.kept_float)?;
    Ok(GatedQuantization {
        qdq,
        quant: record,
        gate,
    })
}
