//! # burnish-pipeline
//!
//! The main job of burnish, end to end: take a model, make it cheaper to serve, and prove it.
//! [`run`] optimizes the model (level extended, plus any quantization asked for), checks each
//! variant's fidelity against the baseline (and its accuracy on labeled data), profiles it per
//! op, measures every variant under the standard scenarios (single-stream, offline batch sweep,
//! concurrency sweep, server max-QPS search against a p99 SLO) interleaved, compares the
//! baseline with each candidate in ABAB rounds (speedup with a bootstrap CI), saves everything
//! as one `results.json` and renders the HTML report next to it.
//!
//! ```no_run
//! use burnish_bench::LoadGen;
//! use burnish_pipeline::{PipelineConfig, run};
//!
//! let cfg = PipelineConfig::new("model.onnx", "reports/model");
//! let outcome = run(&cfg, &LoadGen::new())?;
//! println!("report: {}", outcome.report.index.display());
//! # Ok::<(), burnish_pipeline::PipelineError>(())
//! ```
//!
//! ## Output folder
//!
//! | path | what |
//! |---|---|
//! | `index.html`, `run-*.html`, `charts/*.svg` | the report (`burnish-report`) |
//! | `results.json` | the report input: results, variants, optimization record, profiles; `burnish report results.json -o DIR` renders the same report |
//! | `models/<variant>.onnx` | every variant but the baseline, as measured (fused ops kept in the `burnish` domain) |
//!
//! ## Durations
//!
//! [`MeasurePlan::quick`] (the default) runs each measurement for 0.25-1.5 s, so two variants
//! of a small model take about a minute on two cores; its results are judged against those
//! limits. [`MeasurePlan::full`] uses LoadGen's 600 s minimum per run.
//! [`MeasurePlan::with_run_time`] sets every run's minimum duration (smoke tests, slow models).
//! Without an explicit SLO, the server searches use 4× the baseline's single-stream p99.

mod config;
mod error;
pub mod fidelity;
pub mod measure;
pub mod plan;
mod quant;
mod run;
mod summary;
pub mod target;
pub mod variants;

pub use config::{EvalConfig, PipelineConfig};
pub use error::PipelineError;
pub use plan::MeasurePlan;
pub use run::{PipelineOutcome, run};
pub use target::ModelTarget;
