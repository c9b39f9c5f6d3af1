//! Errors of the model crate: [`ModelError`] for models, tensor files and tensors, and the
//! smaller [`LimitError`] (memory budget), [`CompareError`] (tensor comparison) and
//! [`NpyError`] (NPY payloads, before a file name is known).

use thiserror::Error;

use crate::DType;

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
    /// Raw bytes cannot be decoded as elements of this type (strings have no raw form).
    #[error("{dtype} tensors cannot be decoded from raw bytes")]
    RawBytes {
        /// The element type.
        dtype: DType,
    },
    /// Raw bytes that are not a whole number of elements.
    #[error("{bytes} bytes is not a whole number of {dtype} elements")]
    PartialElement {
        /// The number of bytes.
        bytes: usize,
        /// The element type.
        dtype: DType,
    },
    /// An axis past a tensor's rank.
    #[error("shape {shape:?} has no axis {axis}")]
    NoAxis {
        /// The tensor's shape.
        shape: Vec<usize>,
        /// The axis asked for.
        axis: usize,
    },
    /// A sample index past the samples a tensor holds along its batch axis.
    #[error("sample {row} out of {dim} (axis {axis})")]
    SampleOutOfRange {
        /// The sample asked for.
        row: usize,
        /// The samples the tensor holds (its size along `axis`).
        dim: usize,
        /// The batch axis.
        axis: usize,
    },
    /// A range of rows past the rows a tensor holds (or reversed).
    #[error("rows {start}..{end} out of {rows}")]
    RowsOutOfRange {
        /// First row asked for.
        start: usize,
        /// One past the last row asked for.
        end: usize,
        /// The rows the tensor holds.
        rows: usize,
    },
    /// Rows of a scalar were asked for.
    #[error("a scalar has no rows")]
    ScalarRows,
    /// A tensor whose data does not fill its shape.
    #[error("shape {shape:?} does not match its data")]
    DataMismatch {
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// A batch size the model's fixed batch dim rules out.
    #[error("input `{input}` has a fixed batch of {fixed}, so batch {batch} cannot run")]
    FixedBatch {
        /// The input with the fixed batch dim.
        input: String,
        /// Its batch.
        fixed: usize,
        /// The batch asked for.
        batch: usize,
    },
    /// A shape text (`1x3x224x224`) with a part that is not a size.
    #[error("`{dim}` in `{text}` is not a dimension size")]
    BadShape {
        /// The part that is not a size.
        dim: String,
        /// The whole text.
        text: String,
    },
    /// A serialized ONNX tensor (`TensorProto`) that cannot be decoded; callers add the file
    /// and the initializer or node.
    #[error("{message}")]
    TensorProto {
        /// What is wrong.
        message: String,
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

/// A size that overflows or a tensor larger than the memory budget ([`crate::limits`]), or a
/// `--max-memory` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LimitError {
    /// The element count of a shape overflows.
    #[error("a tensor of shape {shape:?} has more elements than fit in memory")]
    TooManyElements {
        /// The shape.
        shape: Vec<usize>,
    },
    /// A size in bytes overflows.
    #[error("the size of {what} overflows")]
    Overflow {
        /// What was being sized.
        what: String,
    },
    /// A size larger than the budget.
    #[error(
        "{what} needs {bytes} bytes, more than the memory limit of {limit} bytes (--max-memory)"
    )]
    OverBudget {
        /// What was being sized.
        what: String,
        /// Its size in bytes.
        bytes: usize,
        /// The budget in bytes.
        limit: usize,
    },
    /// A size text that does not start with a number.
    #[error("`{text}` is not a size (e.g. 512M, 2G)")]
    NotASize {
        /// The text.
        text: String,
    },
    /// A size text with a unit other than K, M, G or T.
    #[error("`{text}` has an unknown unit (use K, M, G or T)")]
    UnknownUnit {
        /// The text.
        text: String,
    },
    /// A size below one byte or too large for this machine.
    #[error("`{text}` is not a usable size")]
    UnusableSize {
        /// The text.
        text: String,
    },
}

/// Why two tensors cannot be compared ([`crate::compare`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CompareError {
    /// The shapes differ.
    #[error("shape {actual:?}, expected {expected:?}")]
    Shape {
        /// The actual tensor's shape.
        actual: Vec<usize>,
        /// The expected tensor's shape.
        expected: Vec<usize>,
    },
    /// The element types differ.
    #[error("type {actual}, expected {expected}")]
    Type {
        /// The actual tensor's type.
        actual: DType,
        /// The expected tensor's type.
        expected: DType,
    },
    /// The tensors have no numeric values.
    #[error("string tensors cannot be compared")]
    NotNumeric,
}

/// A malformed or unsupported NPY payload, or a tensor NPY cannot hold ([`crate::npy`]). It
/// names no file: the `.npy`/`.npz` readers and writers wrap it in [`ModelError::TensorFile`].
#[derive(Debug, Error)]
pub enum NpyError {
    /// Reading the stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The magic, version or header is malformed, or declares an array burnish does not read
    /// (structured, unsupported type).
    #[error("{0}")]
    Header(String),
    /// The header declares an array that overflows or is larger than the memory budget.
    #[error("NPY header: {0}")]
    Size(#[source] LimitError),
    /// Fewer data bytes than the header's shape needs.
    #[error("truncated NPY data: {have} bytes for shape {shape:?} of {dtype}, need {need}")]
    Truncated {
        /// Bytes present.
        have: usize,
        /// The declared shape.
        shape: Vec<usize>,
        /// The declared type.
        dtype: DType,
        /// Bytes needed.
        need: usize,
    },
    /// The data bytes do not make a tensor of the declared type and shape.
    #[error(transparent)]
    Data(#[from] ModelError),
    /// NPY has no form for this element type.
    #[error("{dtype} tensors cannot be written to NPY")]
    Unwritable {
        /// The element type.
        dtype: DType,
    },
}
