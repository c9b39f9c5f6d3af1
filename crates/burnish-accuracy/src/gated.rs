//! The accuracy gate over real models: quantize with some nodes kept float, evaluate, repeat.

use burnish_eval::{Dataset, EvalOptions, Evaluation, Scores, evaluate, fidelity};
use burnish_model::{Model, TensorData};
use serde::Serialize;

use crate::AccuracyError;
use crate::gate::{AccuracyBudget, Candidate, GateLimits, GateRecord, Score, Sensitivity, search};
use crate::inspect::node_macs_at;

/// Ops the gate may keep in float (the quantizer's MAC-carrying targets).
pub const CANDIDATE_OPS: [&str; 4] = ["Conv", "ConvTranspose", "MatMul", "Gemm"];

/// Settings of [`gate_model`].
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// The accepted drop.
    pub budget: AccuracyBudget,
    /// How sensitivity is ranked.
    pub method: Sensitivity,
    /// Trial and time limits.
    pub limits: GateLimits,
    /// How every candidate is evaluated.
    pub eval: EvalOptions,
}

/// The gated model and how it was found.
#[derive(Debug, Clone)]
pub struct GateOutcome {
    /// The best model found (the original when no trial ran).
    pub model: Model,
    /// The search, its trials and the nodes kept float.
    pub record: GateRecord,
    /// The float model's evaluation.
    pub baseline: Evaluation,
}

/// A summary line for reports: one value per field.
#[derive(Debug, Clone, Serialize)]
pub struct GateSummary {
    /// Float accuracy.
    pub baseline_accuracy: f64,
    /// Accuracy reached.
    pub accuracy: f64,
    /// Whether the budget holds.
    pub within_budget: bool,
    /// Nodes kept float.
    pub kept_float: Vec<String>,
}

/// Candidate nodes of `model` (ops in [`CANDIDATE_OPS`], default domain), graph order, with
/// MACs measured on the first sample of `data` when the model runs.
pub fn candidates(model: &Model, data: &Dataset) -> Vec<Candidate> {
    let macs = data
        .rows(0, 1.min(data.len()))
        .ok()
        .and_then(|rows| node_macs_at(model, &rows).ok())
        .unwrap_or_default();
    model
        .graph
        .nodes
        .iter()
        .filter(|n| n.domain.is_empty() && CANDIDATE_OPS.contains(&n.op_type.as_str()))
        .map(|n| Candidate {
            node: n.name.clone(),
            op_type: n.op_type.clone(),
            macs: macs.get(&n.name).copied(),
        })
        .collect()
}

fn score(eval: &Evaluation, scores: &Scores, reference: &Scores) -> Result<Score, AccuracyError> {
    let shape = vec![scores.rows(), scores.classes];
    let f = fidelity(
        &TensorData::from_f32(shape.clone(), scores.values.clone()),
        &TensorData::from_f32(
            vec![reference.rows(), reference.classes],
            reference.values.clone(),
        ),
    )
    .map_err(|m| AccuracyError::Model(format!("scores differ from the float model's: {m}")))?;
    Ok(Score {
        accuracy: eval.top1,
        snr_db: f.snr_db.unwrap_or(f64::INFINITY),
        top1_agreement: f.top1_agreement.unwrap_or(1.0),
    })
}

/// Runs the gate: `quantize(float_nodes)` must return `original` quantized with those nodes
/// kept in float (deterministically: the winner is quantized again at the end). Its errors
/// become [`AccuracyError::Quantize`], with their text.
pub fn gate_model<Q, E>(
    original: &Model,
    data: &Dataset,
    candidates: &[Candidate],
    opts: &GateOptions,
    mut quantize: Q,
) -> Result<GateOutcome, AccuracyError>
where
    Q: FnMut(&[String]) -> Result<Model, E>,
    E: std::fmt::Display,
{
    let (baseline, reference) = evaluate(original, data, &opts.eval)?;
    let mut run = |float: &[String]| -> Result<Score, AccuracyError> {
        let model = quantize(float).map_err(|e| AccuracyError::Quantize {
            float: float.len(),
            message: e.to_string(),
        })?;
        let (eval, scores) = evaluate(&model, data, &opts.eval)?;
        score(&eval, &scores, &reference)
    };
    let record = search(
        candidates,
        baseline.top1,
        opts.budget,
        opts.method,
        opts.limits,
        &mut run,
    )?;
    let model = if record.trials.is_empty() {
        original.clone()
    } else {
        quantize(&record.kept_float).map_err(|e| AccuracyError::Quantize {
            float: record.kept_float.len(),
            message: e.to_string(),
        })?
    };
    Ok(GateOutcome {
        model,
        record,
        baseline,
    })
}

impl GateOutcome {
    /// The headline numbers.
    pub fn summary(&self) -> GateSummary {
        GateSummary {
            baseline_accuracy: self.record.baseline_accuracy,
            accuracy: self.record.accuracy,
            within_budget: self.record.within_budget,
            kept_float: self.record.kept_float.clone(),
        }
    }
}
