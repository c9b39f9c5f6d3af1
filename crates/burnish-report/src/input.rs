//! What the report is rendered from: result files plus facts only the CLI knows (model
//! variants, the optimization record, per-op profiles, drift). Everything is plain serde data,
//! so a report can be re-rendered from saved JSON.

use std::path::Path;

use burnish_bench::BenchFile;
use burnish_drift::DriftReport;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;

/// Version of the [`ReportInput`] JSON layout; bumped on incompatible changes.
pub const INPUT_SCHEMA_VERSION: u32 = 1;

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// Always [`INPUT_SCHEMA_VERSION`] when written by this build.
    #[serde(default = "input_schema_version")]
    pub schema_version: u32,
    /// Page title; `None`: "burnish report".
    #[serde(default)]
    pub title: Option<String>,
    /// Benchmark result files, in the order given; their runs are shown in this order.
    pub results: Vec<BenchFile>,
    /// Model variants (baseline, optimized, quantized...), for the Pareto chart and the
    /// fidelity table.
    #[serde(default)]
    pub variants: Vec<ModelVariant>,
    /// What the optimizer did.
    #[serde(default)]
    pub optimization: Option<OptimizationRecord>,
    /// Per-op time breakdowns, one per variant.
    #[serde(default)]
    pub profiles: Vec<OpProfile>,
    /// Data drift between a reference set and live data.
    #[serde(default)]
    pub drift: Option<DriftReport>,
    /// Remarks from whatever produced the input, e.g. a measurement that could not be made
    /// and why; shown in the validity section.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Default for ReportInput {
    fn default() -> Self {
        Self {
            schema_version: INPUT_SCHEMA_VERSION,
            title: None,
            results: Vec::new(),
            variants: Vec::new(),
            optimization: None,
            profiles: Vec::new(),
            drift: None,
            notes: Vec::new(),
        }
    }
}

fn input_schema_version() -> u32 {
    INPUT_SCHEMA_VERSION
}

/// One model file that was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVariant {
    /// Short name shown in charts and tables (e.g. `baseline`, `optimized`, `int8`).
    pub label: String,
    /// Label or target name of the run that measured this variant; `None`: [`Self::label`].
    /// The variant's latency in the Pareto chart is that run's p90.
    #[serde(default)]
    pub run: Option<String>,
    /// Path of the model file, as given on the command line.
    pub model_path: String,
    /// Size of the model file, bytes.
    pub file_size_bytes: u64,
    /// Bytes of parameters (weights) in memory.
    pub parameter_bytes: u64,
    /// Task accuracy on the evaluation set, in `[0, 1]`, when measured.
    #[serde(default)]
    pub accuracy: Option<f64>,
    /// Output agreement with the reference model, when measured.
    #[serde(default)]
    pub fidelity: Option<Fidelity>,
}

/// How closely a variant's outputs follow the reference model's on the same inputs (the one
/// fidelity type, from `burnish-stats`).
pub use burnish_stats::Fidelity;

/// What the optimizer did to the graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OptimizationRecord {
    /// Passes in the order they ran.
    pub passes: Vec<PassRecord>,
    /// Graph nodes before optimization.
    pub nodes_before: u64,
    /// Graph nodes after optimization.
    pub nodes_after: u64,
    /// Parameter count (elements) before optimization.
    pub params_before: u64,
    /// Parameter count (elements) after optimization.
    pub params_after: u64,
}

/// One optimizer pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassRecord {
    /// Pass name.
    pub name: String,
    /// How many rewrites it applied.
    pub changes: u64,
    /// Wall time, milliseconds.
    pub millis: f64,
}

/// Where one variant spends its inference time, per op type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpProfile {
    /// The variant's label (matches [`ModelVariant::label`] when variants are given).
    pub variant: String,
    /// One row per op type.
    pub rows: Vec<OpRow>,
}

/// Time spent in one op type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpRow {
    /// ONNX op type (e.g. `Conv`, `MatMul`).
    pub op_type: String,
    /// Calls per inference (or in total, consistently within one profile).
    pub calls: u64,
    /// Time in the op itself, milliseconds.
    pub self_ms: f64,
    /// `self_ms` as a fraction of the profile's total, in `[0, 1]`.
    pub share: f64,
    /// Achieved GFLOP/s, when the op's cost is known.
    #[serde(default)]
    pub gflops: Option<f64>,
}

impl ReportInput {
    /// An input holding result files only.
    pub fn from_results(results: Vec<BenchFile>) -> Self {
        Self {
            results,
            ..Self::default()
        }
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(|source| ReportError::Serialize {
            what: "the report input",
            source,
        })
    }

    /// Parses JSON written by [`Self::to_json`].
    pub fn from_json_str(json: &str) -> Result<Self, ReportError> {
        let value = serde_json::from_str(json).map_err(|source| ReportError::Parse {
            path: "<string>".into(),
            source,
        })?;
        Self::from_value(value, Path::new("<string>"))
    }

    fn from_value(value: serde_json::Value, path: &Path) -> Result<Self, ReportError> {
        let input: Self = serde_json::from_value(value).map_err(|source| ReportError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        if input.schema_version != INPUT_SCHEMA_VERSION {
            return Err(ReportError::SchemaVersion {
                path: path.to_path_buf(),
                found: input.schema_version,
                supported: INPUT_SCHEMA_VERSION,
            });
        }
        Ok(input)
    }

    /// Writes [`Self::to_json`] atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ReportError> {
        crate::write::write_atomic(path.as_ref(), self.to_json()?.as_bytes())
    }

    /// Reads files written either by [`ReportInput::save`] or by [`BenchFile::save`], and
    /// merges them in order: result files are appended, the other parts extended (a later
    /// drift report or optimization record replaces an earlier one; the first title wins).
    pub fn load_all<P: AsRef<Path>>(paths: &[P]) -> Result<Self, ReportError> {
        let mut input = Self::default();
        for path in paths {
            input.merge(Self::load(path.as_ref())?);
        }
        Ok(input)
    }

    /// Reads one file written by [`ReportInput::save`] or [`BenchFile::save`] (a bare result
    /// file becomes an input with that one file).
    pub fn load(path: &Path) -> Result<Self, ReportError> {
        let json = std::fs::read_to_string(path).map_err(ReportError::io("read", path))?;
        let parse = |source| ReportError::Parse {
            path: path.to_path_buf(),
            source,
        };
        let probe: serde_json::Value = serde_json::from_str(&json).map_err(parse)?;
        if probe.get("results").is_some() {
            return Self::from_value(probe, path);
        }
        let file = BenchFile::from_json(&json, path).map_err(|source| ReportError::Load {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::from_results(vec![file]))
    }

    /// Appends `other` to `self` (see [`ReportInput::load_all`]).
    pub fn merge(&mut self, other: ReportInput) {
        self.title = self.title.take().or(other.title);
        self.results.extend(other.results);
        self.variants.extend(other.variants);
        self.profiles.extend(other.profiles);
        self.notes.extend(other.notes);
        if other.optimization.is_some() {
            self.optimization = other.optimization;
        }
        if other.drift.is_some() {
            self.drift = other.drift;
        }
    }
}
