//! Errors of the optimizer.

use thiserror::Error;

/// Everything that can go wrong while optimizing a model.
#[derive(Debug, Error)]
pub enum OptError {
    /// A pass failed on a node.
    #[error("pass `{pass}`, node `{node}`: {message}")]
    Pass {
        /// The pass.
        pass: String,
        /// The node it was rewriting.
        node: String,
        /// What went wrong.
        message: String,
    },
    /// `--verify` found the graph inconsistent after a pass.
    #[error("graph inconsistent after pass `{pass}`: {message}")]
    Verify {
        /// The pass that ran last.
        pass: String,
        /// The broken rule.
        message: String,
    },
    /// A pass name given in the options does not exist.
    #[error("unknown pass `{name}` (known passes: {known})")]
    UnknownPass {
        /// The name given.
        name: String,
        /// All pass names, comma separated.
        known: String,
    },
    /// An unknown optimization level.
    #[error("unknown level `{0}` (expected `basic` or `extended`)")]
    UnknownLevel(String),
    /// Running the model (constant folding, shape probing) failed.
    #[error("{context}: {source}")]
    Runtime {
        /// What was being run.
        context: String,
        /// The runtime's error.
        #[source]
        source: burnish_runtime::RuntimeError,
    },
    /// Raising the opset met a node it cannot convert (or the result failed the checker).
    #[error("cannot raise the opset from {from} to {to}{}: {message}", if node.is_empty() { String::new() } else { format!(" at node `{node}` ({op})") })]
    Opset {
        /// The model's opset.
        from: i64,
        /// The target opset.
        to: i64,
        /// The node (empty for model-level problems).
        node: String,
        /// The node's op type.
        op: String,
        /// Why.
        message: String,
    },
    /// A model-level error (synthesizing inputs, writing files).
    #[error(transparent)]
    Model(#[from] burnish_model::ModelError),
}

impl OptError {
    /// Error raised by `pass` while rewriting `node`.
    pub fn pass(pass: &str, node: &str, message: impl Into<String>) -> Self {
        OptError::Pass {
            pass: pass.to_string(),
            node: node.to_string(),
            message: message.into(),
        }
    }
}

/// A broken graph invariant, as `--verify` finds it after a pass.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// A graph input is declared more than once.
    #[error("graph input `{0}` is declared twice")]
    DuplicateInput(String),
    /// A node reads a value no earlier node, input or initializer defines.
    #[error("node `{node}` ({op}) reads `{value}` before it is defined")]
    UsedBeforeDefined {
        /// The node.
        node: String,
        /// Its op type.
        op: String,
        /// The value it reads.
        value: String,
    },
    /// A value is defined more than once.
    #[error("value `{value}` is defined twice (again by node `{node}`)")]
    DefinedTwice {
        /// The value.
        value: String,
        /// The node that defines it again.
        node: String,
    },
    /// A graph output that nothing produces.
    #[error("graph output `{0}` is never produced")]
    OutputNotProduced(String),
    /// A graph output listed more than once.
    #[error("graph output `{0}` is listed twice")]
    DuplicateOutput(String),
}
