//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong running a model to judge it.
#[derive(Debug, Error)]
pub enum EvalError {
    /// The data or labels are unusable (missing key, wrong shape, bad label).
    #[error("`{path}`: {message}")]
    Data {
        /// The data or labels file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The model does not fit the evaluation (no such output, output not class scores, an
    /// output missing from a candidate).
    #[error("model: {0}")]
    Model(String),
    /// The model file could not be read or imported.
    #[error("cannot load model `{}`: {source}", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// The import error.
        #[source]
        source: burnish_model::ModelError,
    },
    /// Running a model failed.
    #[error("{context}: {source}")]
    Runtime {
        /// What was being run.
        context: String,
        /// The runtime's error.
        #[source]
        source: Box<burnish_runtime::RuntimeError>,
    },
    /// A load-generator target failed outside a measurement.
    #[error("{context}: {message}")]
    Target {
        /// What was being done.
        context: String,
        /// The target's error.
        message: String,
    },
    /// Reading a tensor file or synthesizing inputs failed.
    #[error(transparent)]
    File(#[from] burnish_model::ModelError),
}

impl EvalError {
    pub(crate) fn data(path: impl std::fmt::Display, message: impl Into<String>) -> Self {
        EvalError::Data {
            path: path.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn runtime(
        context: impl Into<String>,
    ) -> impl FnOnce(burnish_runtime::RuntimeError) -> Self {
        let context = context.into();
        move |source| EvalError::Runtime {
            context,
            source: Box::new(source),
        }
    }
}
