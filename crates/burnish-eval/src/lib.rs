//! Run a model and judge it: seeded inputs ([`seeded_inputs`]), labeled data sets
//! ([`Dataset`]), top-1/top-k accuracy ([`evaluate`], the one evaluator), fidelity against a
//! reference model ([`fidelity`], [`compare_models`], [`Agreement`]), and an interpreter session
//! as a load-generator target ([`ModelTarget`]).
//!
//! Below the quantizer, the accuracy gate and the pipeline; above the runtime and the load
//! generator. The statistics themselves ([`Fidelity`], the arg-max and rank rule) live in
//! `burnish-stats`.
//!
//! ```no_run
//! use burnish_eval::{DataSpec, EvalOptions, evaluate, load_dataset};
//!
//! let model = burnish_model::load_onnx("digits_cnn.onnx")?;
//! let spec = DataSpec { data: "digits.npz".as_ref(), data_key: None, labels: None, labels_key: None };
//! let data = load_dataset(&model, &spec)?;
//! let (eval, _scores) = evaluate(&model, &data, &EvalOptions::default())?;
//! println!("top-1 {:.3}", eval.top1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod accuracy;
pub mod data;
mod error;
pub mod fidelity;
pub mod floor;
mod inputs;
pub mod target;

pub use accuracy::{EvalOptions, Evaluation, Scores, count_correct, evaluate, predict};
pub use burnish_stats::Fidelity;
pub use data::{DataSpec, Dataset, LABEL_KEYS, labels_from, load_dataset};
pub use error::EvalError;
pub use fidelity::{Agreement, OutputDiff, agreement, compare_models, fidelity};
pub use floor::{FidelityFloor, OutputFloor, fidelity_floor};
pub use inputs::{seeded_inputs, seeded_inputs_for};
pub use target::{InputSource, MAX_INPUT_SETS, ModelTarget};
