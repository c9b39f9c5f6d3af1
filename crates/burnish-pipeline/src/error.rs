//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can stop a pipeline.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The model file could not be read or imported.
    #[error("cannot load model `{}`: {source}", path.display())]
    Load {
        /// The model file.
        path: PathBuf,
        /// The import error.
        #[source]
        source: burnish_model::ModelError,
    },
    /// A data file (calibration, evaluation, fidelity inputs) could not be read or is unusable.
    #[error("data file `{}`: {message}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A variant could not be compiled or run by the interpreter.
    #[error("variant `{variant}`: {context}: {source}")]
    Runtime {
        /// The variant's label.
        variant: String,
        /// What was being done.
        context: String,
        /// The interpreter's error.
        #[source]
        source: Box<burnish_runtime::RuntimeError>,
    },
    /// A variant failed while being prepared or run outside a measurement.
    #[error("variant `{variant}`: {context}: {message}")]
    Target {
        /// The variant's label.
        variant: String,
        /// What was being done.
        context: &'static str,
        /// The target's error.
        message: String,
    },
    /// The optimizer failed.
    #[error("optimizing `{}`: {source}", path.display())]
    Optimize {
        /// The model file.
        path: PathBuf,
        /// The optimizer's error.
        #[source]
        source: Box<burnish_optimizer::OptError>,
    },
    /// A quantization mode was asked for that this build cannot produce.
    #[error("quantization `{mode}`: {message}")]
    Quantize {
        /// The mode as given.
        mode: String,
        /// Why it failed.
        message: String,
    },
    /// A variant's model file could not be written.
    #[error("cannot write model `{}`: {source}", path.display())]
    SaveModel {
        /// The file.
        path: PathBuf,
        /// The export error.
        #[source]
        source: burnish_model::ModelError,
    },
    /// A measurement failed (the target errored, or a scenario setting was invalid).
    #[error("measuring `{variant}` ({scenario}): {source}")]
    Bench {
        /// The variant's label.
        variant: String,
        /// The scenario.
        scenario: &'static str,
        /// The load generator's error.
        #[source]
        source: Box<burnish_bench::BenchError>,
    },
    /// The settings are inconsistent.
    #[error("invalid setting `{setting}`: {message}")]
    Config {
        /// The setting.
        setting: &'static str,
        /// Why.
        message: String,
    },
    /// Loading the evaluation data, synthesizing inputs, or preparing a variant failed.
    #[error(transparent)]
    Eval(#[from] burnish_eval::EvalError),
    /// The results or the report could not be written.
    #[error(transparent)]
    Report(Box<burnish_report::ReportError>),
}

impl From<burnish_report::ReportError> for PipelineError {
    fn from(e: burnish_report::ReportError) -> Self {
        Self::Report(Box::new(e))
    }
}

impl PipelineError {
    pub(crate) fn runtime(
        variant: &str,
        context: impl Into<String>,
    ) -> impl FnOnce(burnish_runtime::RuntimeError) -> Self {
        let (variant, context) = (variant.to_string(), context.into());
        move |source| Self::Runtime {
            variant,
            context,
            source: Box::new(source),
        }
    }

    pub(crate) fn bench(
        variant: &str,
        scenario: &'static str,
    ) -> impl FnOnce(burnish_bench::BenchError) -> Self {
        let variant = variant.to_string();
        move |source| Self::Bench {
            variant,
            scenario,
            source: Box::new(source),
        }
    }

    pub(crate) fn data(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Data {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
