//! # burnish-runtime
//!
//! An interpreter for burnish graphs on a Burn backend (the flex CPU backend). A [`Session`]
//! compiles a [`burnish_model::Model`] once: unsupported ops are all reported up front, weights
//! are uploaded to the device once, attributes are parsed once. Runs then only compute.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use burnish_model::{load_onnx, TensorData};
//! use burnish_runtime::{Session, SessionOptions};
//!
//! let model = load_onnx("model.onnx")?;
//! let session = Session::new(&model, SessionOptions::threads(Some(1)))?;
//! let mut inputs = BTreeMap::new();
//! inputs.insert("input".to_string(), TensorData::from_f32(vec![1, 4], vec![0.0; 4]));
//! let outputs = session.run(&inputs)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch_projections;
pub mod capture;
pub mod conformance;
pub mod error;
mod exec;
mod fold;
mod fusion;
mod inline;
pub mod inspect;
pub mod macs;
mod ops;
mod plan;
pub mod profile;
pub mod qdq_lower;
mod session;
pub mod value;

pub use error::RuntimeError;
pub use qdq_lower::{LowerRecord, lower_qdq};
pub use session::{NodeTiming, Session, SessionOptions, unsupported_ops};
pub use value::Value;

/// Whether the interpreter implements op `op_type` of `domain` (`""` and `ai.onnx` both name
/// the default domain).
pub fn supports_op(domain: &str, op_type: &str) -> bool {
    ops::builder(domain, op_type).is_some()
}
