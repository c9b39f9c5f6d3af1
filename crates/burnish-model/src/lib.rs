//! # burnish-model
//!
//! The burnish graph IR and its file formats: ONNX models in (decoded with the protobuf bindings
//! of Burn's `onnx-ir` front end), NumPy `.npy`/`.npz` tensors in and out.
//!
//! ```no_run
//! let model = burnish_model::load_onnx("model.onnx")?;
//! println!("opset {}, {} nodes", model.opset(), model.graph.nodes.len());
//! for (op, count) in model.graph.op_histogram() {
//!     println!("{op}: {count}");
//! }
//! # Ok::<(), burnish_model::ModelError>(())
//! ```
//!
//! The IR keeps the model as authored: original node names, op types, attributes and value names.
//! onnx-ir's own node conversion renames nodes, sanitizes value names and fuses MatMul+Add and
//! Gemm into `Linear` even with simplification off, which would make the *baseline* something
//! other than the user's model; burnish therefore uses onnx-ir's wire-format layer and owns the
//! translation.

pub mod attr;
pub mod check;
pub mod compare;
pub mod cost;
pub mod domain;
mod dtype;
pub mod error;
pub mod graph;
pub mod limits;
pub mod narrow;
pub mod npy;
pub mod onnx;
pub mod query;
pub mod samples;
pub mod schema;
pub mod synth;
pub mod tensor;
pub mod validate;

pub use attr::{AttrExt, Attribute, Attributes};
pub use dtype::DType;
pub use error::{CompareError, LimitError, ModelError, NpyError};
pub use graph::{Dim, Graph, Model, Node, ValueInfo};
pub use npy::{read_tensors, write_npz};
pub use onnx::{decode_onnx, encode_onnx, load_onnx, save_onnx};
pub use samples::{BatchLayout, Samples};
pub use tensor::{Buffer, TensorData};
