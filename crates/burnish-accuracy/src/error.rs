//! Errors of the accuracy crate.

use thiserror::Error;

/// Everything that can go wrong evaluating, gating or inspecting a model.
#[derive(Debug, Error)]
pub enum AccuracyError {
    /// The model does not fit the evaluation (no such output, output not class scores).
    #[error("model: {0}")]
    Model(String),
    /// Running a model failed.
    #[error("{context}: {source}")]
    Runtime {
        /// What was being run.
        context: String,
        /// The runtime's error.
        #[source]
        source: burnish_runtime::RuntimeError,
    },
    /// The quantizer failed while the gate asked it for a candidate.
    #[error("quantizing with {float} node(s) kept in float: {message}")]
    Quantize {
        /// Number of nodes kept in float in the failing request.
        float: usize,
        /// The quantizer's message.
        message: String,
    },
    /// A bad setting (budget, limits).
    #[error("{0}")]
    Setting(String),
    /// Reading a tensor file failed.
    #[error(transparent)]
    File(#[from] burnish_model::ModelError),
    /// Loading the data or evaluating a model failed.
    #[error(transparent)]
    Eval(#[from] burnish_eval::EvalError),
}

impl AccuracyError {
    pub(crate) fn runtime(
        context: impl Into<String>,
    ) -> impl FnOnce(burnish_runtime::RuntimeError) -> Self {
        let context = context.into();
        move |source| AccuracyError::Runtime { context, source }
    }
}
