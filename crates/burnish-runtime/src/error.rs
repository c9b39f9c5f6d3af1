//! Errors of the runtime crate.

use std::collections::BTreeMap;

use burnish_model::DType;
use thiserror::Error;

/// Everything that can go wrong preparing or running a session.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The model uses ops the interpreter does not implement; all are listed, with counts.
    #[error("unsupported operators: {}", list_ops(.ops))]
    UnsupportedOps {
        /// Op type (`domain::op` outside the default domain) -> number of nodes.
        ops: BTreeMap<String, usize>,
    },
    /// A node could not be compiled (bad attribute, unsupported variant).
    #[error("node `{node}` ({op}): {message}")]
    Build {
        /// Node name.
        node: String,
        /// Op type.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// A node failed while running (shape mismatch, bad index, ...).
    #[error("node `{node}` ({op}) failed: {message}")]
    Node {
        /// Node name.
        node: String,
        /// Op type.
        op: String,
        /// What went wrong.
        message: String,
    },
    /// A graph input was not provided.
    #[error("missing input `{name}` (the model's inputs are: {expected})")]
    MissingInput {
        /// The input's name.
        name: String,
        /// All input names, comma separated.
        expected: String,
    },
    /// An input was provided that the model does not have.
    #[error("unknown input `{name}` (the model's inputs are: {expected})")]
    UnknownInput {
        /// The provided name.
        name: String,
        /// All input names, comma separated.
        expected: String,
    },
    /// An input has the wrong element type.
    #[error("input `{name}` must be {expected}, got {got}")]
    InputDtype {
        /// The input's name.
        name: String,
        /// Declared type.
        expected: DType,
        /// Provided type.
        got: DType,
    },
    /// An input has the wrong rank or a fixed dimension differs.
    #[error("input `{name}` must have shape {expected}, got {got:?}")]
    InputShape {
        /// The input's name.
        name: String,
        /// Declared shape.
        expected: String,
        /// Provided shape.
        got: Vec<usize>,
    },
    /// A value could not be moved to or from the device.
    #[error("value `{name}`: {message}")]
    Value {
        /// The value's name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A value that is not a tensor where one is needed (a sequence, an optional).
    #[error("expected a tensor, found {found}")]
    NotATensor {
        /// What the value is (`a sequence`, `an optional`).
        found: String,
    },
    /// A tensor without numeric values (strings) where numbers are needed.
    #[error("expected a numeric tensor")]
    NotNumeric,
    /// A tensor could not be read back from the backend.
    #[error("{message}")]
    ReadBack {
        /// What went wrong.
        message: String,
    },
    /// A QDQ pattern could not be lowered to int8 ops when the session was built.
    #[error("QDQ lowering, node `{node}` ({op}): {message}")]
    QdqLowering {
        /// Node name.
        node: String,
        /// Op type.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// The thread pool could not be created.
    #[error("cannot create a thread pool of {threads} threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why it failed.
        message: String,
    },
}

impl RuntimeError {
    /// True for errors about the inputs given (missing, unknown, wrong type or shape), which
    /// are about the data file they came from rather than the model.
    pub fn is_about_inputs(&self) -> bool {
        matches!(
            self,
            RuntimeError::MissingInput { .. }
                | RuntimeError::UnknownInput { .. }
                | RuntimeError::InputDtype { .. }
                | RuntimeError::InputShape { .. }
        )
    }
}

fn list_ops(ops: &BTreeMap<String, usize>) -> String {
    ops.iter()
        .map(|(op, n)| format!("{op} (x{n})"))
        .collect::<Vec<_>>()
        .join(", ")
}
