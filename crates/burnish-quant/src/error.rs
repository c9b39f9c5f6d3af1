//! Errors of the quantizer.

use thiserror::Error;

/// Everything that can go wrong while quantizing a model.
#[derive(Debug, Error)]
pub enum QuantError {
    /// A setting could not be parsed (`--quantize`, `--calibration-method`, ...).
    #[error("invalid {what} `{value}` (expected {expected})")]
    BadSetting {
        /// The setting.
        what: &'static str,
        /// The value given.
        value: String,
        /// The accepted values.
        expected: &'static str,
    },
    /// The mode needs calibration data and none was given.
    #[error("`{mode}` needs calibration data (`--calibration data.npz`)")]
    NeedsCalibration {
        /// The mode.
        mode: String,
    },
    /// The calibration data does not fit the model.
    #[error("calibration data `{source_name}`: {message}")]
    Calibration {
        /// The calibration file (or `<memory>`).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A node cannot be rewritten as asked.
    #[error("node `{node}` ({op}): {message}")]
    Node {
        /// Node name.
        node: String,
        /// Op type.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// The model's opset is too old for the ops the mode writes and cannot be raised.
    #[error(
        "{mode} needs opset {need}; the model has opset {have} and cannot be raised: {message}"
    )]
    Opset {
        /// The mode.
        mode: String,
        /// The opset needed.
        need: i64,
        /// The model's opset.
        have: i64,
        /// Why the conversion was refused.
        message: String,
    },
    /// The quantized graph fails the model checker (a bug: nothing is written).
    #[error("the quantized graph is not valid ONNX: {0}")]
    Invalid(String),
    /// Running the model (calibration, MAC count) failed.
    #[error("{context}: {source}")]
    Runtime {
        /// What was being run.
        context: String,
        /// The runtime's error.
        #[source]
        source: burnish_runtime::RuntimeError,
    },
    /// A model-level error (reading calibration files, building tensors).
    #[error(transparent)]
    Model(#[from] burnish_model::ModelError),
    /// An optimizer error (synthesizing inputs).
    #[error(transparent)]
    Optimizer(#[from] burnish_optimizer::OptError),
    /// Running the float model on seeded inputs failed.
    #[error(transparent)]
    Eval(#[from] burnish_eval::EvalError),
}

impl QuantError {
    /// Error about `node`.
    pub fn node(node: &burnish_model::Node, message: impl Into<String>) -> Self {
        QuantError::Node {
            node: node.name.clone(),
            op: node.op_type.clone(),
            message: message.into(),
        }
    }
}
