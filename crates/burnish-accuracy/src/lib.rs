//! # burnish-accuracy
//!
//! Is the optimized model still right, and what of it really runs in int8?
//!
//! * Classifier accuracy (top-1, top-k) over a labeled data set is `burnish-eval`'s; this crate
//!   keeps the gate that uses it.
//! * [`gate`] and [`gated`]: the accuracy gate. Given an accuracy budget (`0.5%` absolute or
//!   relative), rank node sensitivity, keep the most sensitive nodes in float until the budget
//!   holds, within trial and time limits; always return the best model found, say which nodes
//!   stayed float, and never report a model over budget as within it.
//! * [`inspect`]: "why is it not faster?": the CPU's int8 kernels, the share of MACs in int8,
//!   the quantize/dequantize boundaries; [`profile`]: per-op time, float vs quantized.
//!
//! ```no_run
//! use burnish_eval::{DataSpec, EvalOptions, evaluate, load_dataset};
//! use std::path::Path;
//!
//! let model = burnish_model::load_onnx("digits_cnn.onnx")?;
//! let spec = DataSpec {
//!     data: Path::new("digits_test.npz"),
//!     data_key: Some("x"),
//!     labels: None,
//!     labels_key: Some("y"),
//! };
//! let data = load_dataset(&model, &spec)?;
//! let (eval, _scores) = evaluate(&model, &data, &EvalOptions::default())?;
//! println!("top-1 {:.2}% on {} samples", eval.top1 * 100.0, eval.samples);
//! # Ok::<(), burnish_eval::EvalError>(())
//! ```

mod error;
pub mod gate;
pub mod gated;
pub mod inspect;
mod out;
pub mod profile;
pub mod quant;

pub use error::AccuracyError;
pub use gate::{AccuracyBudget, DropKind, GateLimits, GateRecord, Sensitivity, StopReason};
pub use gated::{GateOptions, GateOutcome, candidates, gate_model};
pub use inspect::{QuantInspection, cpu_int8, inspect_quant};
pub use out::{OptimizeOutput, WhyNotFaster};
pub use profile::ProfileComparison;
pub use quant::{GatedQuantization, gate_quantization};
