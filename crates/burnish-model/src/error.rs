//! Errors of the model crate.

use thiserror::Error;

/// Everything that can go wrong reading, checking or writing a model or a tensor file.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("`{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid ONNX protobuf (truncated, corrupt, not ONNX).
    #[error("`{path}`: not a valid ONNX model: {message}")]
    Decode {
        /// The file.
        path: String,
        /// What the decoder said.
        message: String,
    },
    /// The model decodes but breaks an ONNX rule (dangling input, duplicate output, ...).
    #[error("`{path}`: invalid model: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// One node is malformed (bad attribute, wrong input count, ...).
    #[error("`{path}`: node `{node}` ({op}): {message}")]
    Node {
        /// The file.
        path: String,
        /// The node name.
        node: String,
        /// The node's op type.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor's element count does not match its shape.
    #[error("tensor of shape {expected:?} cannot hold {elements} elements")]
    ShapeMismatch {
        /// The declared shape.
        expected: Vec<usize>,
        /// The number of elements present.
        elements: usize,
    },
    /// An NPY/NPZ file is malformed or holds a type burnish cannot represent.
    #[error("`{path}`{}: {message}", entry.as_ref().map(|e| format!(" entry `{e}`")).unwrap_or_default())]
    TensorFile {
        /// The file.
        path: String,
        /// The array inside an NPZ archive, if any.
        entry: Option<String>,
        /// What is wrong.
        message: String,
    },
}

impl ModelError {
    /// Shorthand for an I/O error on `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
