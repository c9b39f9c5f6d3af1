//! # burnish-pipeline
//!
//! The main job of burnish, end to end: take a model, make it cheaper to serve, and prove it.
//! [`run`] builds the variants asked for ([`VariantKind`]; by default the optimized model, and
//! static int8 where the CPU has int8 dot-product instructions), checks each variant's fidelity
//! against the baseline (and its accuracy on labeled data), profiles it per op, measures every
//! variant under the standard scenarios (single-stream, offline batch sweep, concurrency sweep,
//! server max-QPS search against a p99 SLO) interleaved, compares the baseline with each
//! candidate in ABAB rounds (speedup with a bootstrap CI), saves everything as one
//! `results.json` and renders the HTML report next to it.
//!
//! ## Inputs
//!
//! With real data ([`PipelineConfig::inputs`], one sample or a batch) every scenario feeds it
//! ([`InputSource::Data`]: a batch of `n` takes `n` samples, cycling through the data), the
//! fidelity check runs it, and static int8 calibrates on it when no calibration file is given.
//! Without data, inputs are synthesized from the declared shapes and `--dim`/`--shape`. A batch
//! size the model cannot take (a fixed leading dim) is skipped with its reason.
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
//! of a small model take about a minute on two cores, and the whole pipeline keeps within a
//! 3-minute budget ([`PipelineConfig::time_budget`] sets another): on a slow model every run is
//! shortened to fit ([`budget`]). Quick runs too short for LoadGen's early-stopping rules are
//! QUICK, not INVALID. [`MeasurePlan::full`] uses LoadGen's 600 s minimum per run and no
//! budget. [`MeasurePlan::with_run_time`] sets every run's minimum duration (smoke tests).
//! Without an explicit SLO, the server searches use 4× the baseline's single-stream p99.

pub mod budget;
mod build;
mod config;
mod error;
pub mod inputs;
pub mod measure;
pub mod plan;
pub mod quant;
mod run;
mod summary;
mod tracker;
pub mod variants;

pub use config::{EvalConfig, PipelineConfig, VariantKind};
pub use error::PipelineError;
pub use plan::MeasurePlan;
pub use run::{PipelineOutcome, run};
