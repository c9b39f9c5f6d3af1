//! The gate's vocabulary: the accuracy budget, the sensitivity measures, the search limits, and
//! the record of every trial.

use std::time::Duration;

use serde::Serialize;

use crate::AccuracyError;

/// How an accuracy drop is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DropKind {
    /// `baseline - accuracy` (0.5% = half a percentage point).
    Abs,
    /// `(baseline - accuracy) / baseline`.
    Rel,
}

impl std::str::FromStr for DropKind {
    type Err = AccuracyError;
    fn from_str(s: &str) -> Result<Self, AccuracyError> {
        match s {
            "abs" => Ok(DropKind::Abs),
            "rel" => Ok(DropKind::Rel),
            other => Err(AccuracyError::Setting(format!(
                "unknown accuracy drop kind `{other}` (expected `abs` or `rel`)"
            ))),
        }
    }
}

/// The largest accuracy drop accepted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AccuracyBudget {
    /// As a fraction (0.005 for 0.5%).
    pub max_drop: f64,
    /// Absolute or relative.
    pub kind: DropKind,
}

impl AccuracyBudget {
    /// Parses `0.5%` (a percentage) or `0.005` (a fraction).
    pub fn parse(text: &str, kind: DropKind) -> Result<Self, AccuracyError> {
        let t = text.trim();
        let (num, scale) = match t.strip_suffix('%') {
            Some(n) => (n, 0.01),
            None => (t, 1.0),
        };
        let v: f64 = num
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0 && v * scale < 1.0)
            .ok_or_else(|| {
                AccuracyError::Setting(format!(
                    "`{text}` is not an accuracy drop like `0.5%` or `0.005`"
                ))
            })?;
        Ok(AccuracyBudget {
            max_drop: v * scale,
            kind,
        })
    }

    /// The drop of `accuracy` from `baseline` in this budget's terms.
    pub fn drop(&self, baseline: f64, accuracy: f64) -> f64 {
        match self.kind {
            DropKind::Abs => baseline - accuracy,
            DropKind::Rel if baseline > 0.0 => (baseline - accuracy) / baseline,
            DropKind::Rel => 0.0,
        }
    }

    /// Whether `accuracy` is within the budget (with a 1e-12 allowance for rounding only).
    pub fn allows(&self, baseline: f64, accuracy: f64) -> bool {
        self.drop(baseline, accuracy) <= self.max_drop + 1e-12
    }
}

/// How node sensitivity is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Sensitivity {
    /// Quantize everything but the node; the more accuracy returns, the more sensitive.
    #[default]
    LeaveOneOut,
    /// Quantize only the node; the more accuracy it loses, the more sensitive.
    OnlyOne,
}

impl std::str::FromStr for Sensitivity {
    type Err = AccuracyError;
    fn from_str(s: &str) -> Result<Self, AccuracyError> {
        match s {
            "leave-one-out" => Ok(Sensitivity::LeaveOneOut),
            "only-one" => Ok(Sensitivity::OnlyOne),
            other => Err(AccuracyError::Setting(format!(
                "unknown sensitivity `{other}` (expected `leave-one-out` or `only-one`)"
            ))),
        }
    }
}

/// When the search stops early.
#[derive(Debug, Clone, Copy, Default)]
pub struct GateLimits {
    /// Most quantize-and-evaluate trials.
    pub max_trials: Option<usize>,
    /// Wall-time limit; a running trial is not interrupted.
    pub time_limit: Option<Duration>,
}

/// A node the quantizer may keep in float.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// Node name.
    pub node: String,
    /// Op type.
    pub op_type: String,
    /// Multiply-accumulates, when known (ranks nodes never measured).
    pub macs: Option<u64>,
}

/// What one trial measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// Top-1 accuracy.
    pub accuracy: f64,
    /// SNR of the class scores against the float model, dB.
    pub snr_db: f64,
    /// Share of samples with the float model's top-1 class.
    pub top1_agreement: f64,
}

/// The stage a trial belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Everything quantized.
    Full,
    /// One sensitivity measurement.
    Sensitivity,
    /// Greedy fallback.
    Greedy,
    /// Returning a float node to int8.
    Prune,
}

/// One quantize-and-evaluate trial.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// Stage.
    pub phase: Phase,
    /// Nodes kept in float.
    pub float_nodes: Vec<String>,
    /// Measurements.
    pub score: Score,
    /// Drop in the budget's terms.
    pub drop: f64,
    /// Whether the budget held.
    pub within_budget: bool,
    /// Wall time of the trial, milliseconds.
    pub millis: f64,
}

/// The measured sensitivity of one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSensitivity {
    /// The node.
    pub node: String,
    /// Op type.
    pub op_type: String,
    /// MACs, when known.
    pub macs: Option<u64>,
    /// The trial's score; `None` when a limit stopped the ranking first (ranked by MACs).
    pub score: Option<Score>,
}

/// Why the search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The budget holds and pruning is done.
    BudgetMet,
    /// `max_trials` reached.
    TrialLimit,
    /// `time_limit` reached.
    TimeLimit,
    /// Every candidate is float and the budget still does not hold.
    CandidatesExhausted,
}

/// The gate's result and how it got there.
#[derive(Debug, Clone, Serialize)]
pub struct GateRecord {
    /// The budget.
    pub budget: AccuracyBudget,
    /// Sensitivity method.
    pub method: Sensitivity,
    /// Accuracy of the float model.
    pub baseline_accuracy: f64,
    /// Accuracy of the fully quantized model, if it was evaluated.
    pub full_quant_accuracy: Option<f64>,
    /// Candidates, most sensitive first.
    pub ranking: Vec<NodeSensitivity>,
    /// Every trial, in order.
    pub trials: Vec<Trial>,
    /// Nodes kept in float in the returned model.
    pub kept_float: Vec<String>,
    /// Accuracy of the returned model.
    pub accuracy: f64,
    /// Its drop in the budget's terms.
    pub drop: f64,
    /// Whether the returned model meets the budget. `false` means the budget was NOT met.
    pub within_budget: bool,
    /// Why the search stopped.
    pub stop: StopReason,
    /// Wall time of the search, milliseconds.
    pub millis: f64,
}
