//! # burnish-bench
//!
//! A load generator and statistics library in the manner of MLPerf LoadGen. It knows nothing
//! about ONNX or Burn: anything implementing [`Target`] can be measured.
//!
//! ```
//! use std::time::Duration;
//! use burnish_bench::{
//!     BenchFile, FixedServiceTarget, LoadGen, RunLimits, ServerConfig, SingleStreamConfig, Slo,
//!     summary,
//! };
//!
//! let target = FixedServiceTarget::new(Duration::from_micros(200));
//! let lg = LoadGen::new().with_intra_op_threads(1);
//! let limits = RunLimits::new(Duration::from_millis(100), 50);
//!
//! let single = lg.single_stream(&target, &SingleStreamConfig::new(limits))?;
//! let server = lg.server(
//!     &target,
//!     &ServerConfig::new(500.0, limits).with_slo(Slo::p99(Duration::from_millis(50))),
//! )?;
//!
//! let mut file = BenchFile::new(None);
//! file.runs = vec![single, server];
//! println!("{}", summary::render_runs(&file.runs));
//! let path = std::env::temp_dir().join("burnish-bench-doc.json");
//! file.save(&path)?;
//! assert_eq!(BenchFile::load(&path)?.runs.len(), 2);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), burnish_bench::BenchError>(())
//! ```
//!
//! ## Scenarios
//!
//! - [`LoadGen::single_stream`]: one query at a time; LoadGen reports p90.
//! - [`LoadGen::offline`]: `k` workers back to back, swept over batch sizes; items/s.
//! - [`LoadGen::server`]: open-loop Poisson arrivals from a seeded generator; latency from the
//!   scheduled issue time (no coordinated omission); scheduled vs completed rate; lateness.
//! - [`LoadGen::find_max_qps`]: bracketing and bisection for the highest rate meeting a p99 SLO,
//!   then a validity run.
//! - [`LoadGen::concurrency_sweep`]: closed loop with `N` outstanding queries.
//! - [`LoadGen::multi_model`]: several targets at once; interference ratios.
//!
//! ## Judging results
//!
//! Every [`RunResult`] carries a [`Validity`]: VALID or INVALID with reasons (minimum duration
//! and query count from a [`Profile`], SLO, LoadGen's binomial early stopping, drops) and
//! warnings (high coefficient of variation, loaded machine). [`LoadGen::compare`] measures two
//! targets in interleaved rounds and bootstraps the speedup of the median;
//! [`regression_check`] gates a new run against a saved one.
//!
//! ## Files
//!
//! [`BenchFile`] holds runs, comparisons and searches with a `schema_version`; its JSON Schema
//! is `schema/bench-results.schema.json` in this crate ([`file::JSON_SCHEMA`]).

pub mod arrivals;
pub mod bootstrap;
pub mod compare;
pub mod early_stopping;
pub mod env;
mod error;
pub mod file;
pub mod histogram;
pub mod progress;
pub mod regression;
pub mod resources;
pub mod result;
pub mod scenario;
pub mod speed;
pub mod stats;
pub mod summary;
pub mod target;
pub mod timing;
pub mod validity;

pub use arrivals::PoissonArrivals;
pub use bootstrap::{BootstrapConfig, RatioCi, median_ratio_ci};
pub use burnish_stats::Rng;
pub use compare::{
    CompareConfig, CompareOutcome, CompareScenario, Comparison, PercentileDelta, Verdict, compare,
    compare_rounds,
};
pub use env::{BuildInfo, Environment, IsaFlags, sha256_file, sha256_hex};
pub use error::{BenchError, TargetError};
pub use file::{BenchFile, SCHEMA_VERSION};
pub use histogram::LatencyRecorder;
pub use progress::{BarProgress, NoProgress, Progress};
pub use regression::{RegressionReport, RegressionStatus, regression_check, regression_check_with};
pub use resources::ResourceUsage;
pub use result::{ColdStart, QueryRecord, RunResult, RunSettings, ServerStats, Throughput};
pub use scenario::{
    ConcurrencyConfig, Interference, LoadGen, MIN_SLOS_PER_RUN, MaxQpsConfig, MaxQpsReport,
    ModelLoad, MultiModelReport, OfflineConfig, QpsTrial, ScenarioConfig, ServerConfig,
    SingleStreamConfig, VALIDITY_RETRIES, VALIDITY_STEP_DOWN, capacity_probe_limits,
};
pub use speed::{HarnessSpeed, HarnessSpeedConfig, harness_speed};
pub use stats::{CdfPoint, LatencyStats};
pub use target::{FixedServiceTarget, NoopTarget, StallOnceTarget, Target};
pub use validity::{
    EarlyStopping, Profile, RunLimits, ScenarioKind, Slo, Validity, ValidityStatus,
};
