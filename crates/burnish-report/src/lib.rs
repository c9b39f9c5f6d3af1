//! # burnish-report
//!
//! Renders benchmark results into a self-contained HTML report with SVG charts: one
//! `index.html` (inline CSS and SVG, no scripts, no external assets; it opens from disk) and
//! one `run-<slug>.html` per run, plus every chart as a standalone file under `charts/`.
//!
//! The crate is the last step of *measure, persist, analyze, render*: it reads only saved data
//! ([`ReportInput`]: result files from `burnish-bench` plus facts the CLI gathers), so any
//! report can be re-rendered from JSON. It never imports ONNX or Burn.
//!
//! ```
//! use std::time::Duration;
//! use burnish_bench::{BenchFile, FixedServiceTarget, LoadGen, RunLimits, SingleStreamConfig};
//! use burnish_report::{ModelVariant, ReportInput, render};
//!
//! // Measure (normally the CLI does this) ...
//! let target = FixedServiceTarget::new(Duration::from_micros(200)).named("baseline");
//! let run = LoadGen::new().single_stream(
//!     &target,
//!     &SingleStreamConfig::new(RunLimits::new(Duration::from_millis(50), 64)),
//! )?;
//! let mut results = BenchFile::new(None);
//! results.runs.push(run);
//!
//! // ... describe what was measured, and render.
//! let mut input = ReportInput::from_results(vec![results]);
//! input.title = Some("my model".into());
//! input.variants.push(ModelVariant {
//!     label: "baseline".into(),
//!     run: None, // matched to the run whose label or target is "baseline"
//!     model_path: "model.onnx".into(),
//!     file_size_bytes: 1 << 20,
//!     parameter_bytes: 1 << 20,
//!     accuracy: Some(0.98),
//!     fidelity: None,
//! });
//! let out = std::env::temp_dir().join(format!("burnish-report-doc-{}", std::process::id()));
//! let report = render(&input, &out)?;
//! assert!(report.index.ends_with("index.html"));
//! assert_eq!(report.run_pages.len(), 1);
//! // Charts without data (no comparison, no offline sweep, ...) are listed, not drawn.
//! assert!(report.omitted.iter().any(|c| c.starts_with("Throughput vs batch size")));
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What the report shows
//!
//! | section | charts | tables |
//! |---|---|---|
//! | Verdict | speedup with its bootstrap CI (forest plot) | verdict, CI, per-percentile deltas; regression gates |
//! | Latency | CDF of every variant (log latency); p50/p90/p99/p99.9 bars | every run |
//! | Throughput & load | offline items/s vs batch; latency and items/s vs concurrency; p99 vs offered QPS with the SLO | max-QPS searches |
//! | Model variants | accuracy vs latency, marker size = file size, Pareto frontier | size, accuracy, fidelity |
//! | Optimization | time per op type, variant against variant | passes, nodes and parameters; op profiles |
//! | Interference | alone vs together per percentile, per model | interference ratios |
//! | Validity, Drift, Environment | | reasons and warnings; drift verdict, features, clip rates; fingerprints |
//!
//! A chart whose data is absent is not drawn; the page says so. Which run stands for a model
//! variant: a comparison's baseline or candidate run when there is one for the target, else
//! the target's first single-stream run ([`ModelVariant::run`] names it explicitly).
//!
//! ## Guarantees
//!
//! - **Escaping**: templates are rendered by `minijinja` with HTML auto-escaping; chart text
//!   is escaped by plotters' SVG backend; the one attribute written by hand goes through
//!   [`escape_html`]. Labels, paths and op names from data cannot inject markup.
//! - **Determinism**: the same input renders byte-identical files: numbers are formatted with
//!   fixed precision, maps are sorted, and nothing reads the clock.
//! - **Atomic writes**: every file is written to a temporary file and renamed into place;
//!   the output directory is created when missing. Files of an earlier render that the new
//!   one does not produce are left alone.
//!
//! ## Layout
//!
//! `input` (the data) → `dataset` (analysis: run pages, shared selections) → `charts` (one
//! kind per file, SVG via plotters) and `context` (page contexts, numbers formatted) →
//! `html` (templates from `templates/`, embedded at compile time) → `render` (files).

mod charts;
mod context;
mod dataset;
mod error;
mod escape;
mod format;
mod html;
mod input;
mod render;
mod write;

pub use error::ReportError;
pub use escape::escape_html;
pub use input::{
    Fidelity, INPUT_SCHEMA_VERSION, ModelVariant, OpProfile, OpRow, OptimizationRecord, PassRecord,
    ReportInput,
};
pub use render::{RenderedReport, page_contexts_json, render};
