//! Result files: several runs, comparisons and searches in one JSON document with a schema
//! version, written atomically and read back for re-rendering and the regression gate.
//!
//! The JSON Schema is `crates/burnish-bench/schema/bench-results.schema.json` (also available as
//! [`JSON_SCHEMA`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compare::Comparison;
use crate::env::Environment;
use crate::error::BenchError;
use crate::regression::RegressionReport;
use crate::result::RunResult;
use crate::scenario::{MaxQpsReport, MultiModelReport};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema (draft 2020-12) of result files.
pub const JSON_SCHEMA: &str = include_str!("../schema/bench-results.schema.json");

/// A result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchFile {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// Where the results came from.
    pub environment: Option<Environment>,
    /// Individual runs.
    #[serde(default)]
    pub runs: Vec<RunResult>,
    /// Baseline-versus-candidate comparisons.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// Max-QPS searches.
    #[serde(default)]
    pub max_qps: Vec<MaxQpsReport>,
    /// Multi-model interference runs.
    #[serde(default)]
    pub multi_model: Vec<MultiModelReport>,
    /// Regression-gate verdicts.
    #[serde(default)]
    pub regressions: Vec<RegressionReport>,
}

impl Default for BenchFile {
    fn default() -> Self {
        Self::new(None)
    }
}

impl BenchFile {
    /// An empty file, optionally fingerprinted.
    pub fn new(environment: Option<Environment>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            environment,
            runs: Vec::new(),
            comparisons: Vec::new(),
            max_qps: Vec::new(),
            multi_model: Vec::new(),
            regressions: Vec::new(),
        }
    }

    /// The first run with this label.
    pub fn run(&self, label: &str) -> Option<&RunResult> {
        self.runs.iter().find(|r| r.label == label)
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, BenchError> {
        serde_json::to_string_pretty(self).map_err(BenchError::Serialize)
    }

    /// Parses JSON, checking the schema version. `path` is only used in errors.
    pub fn from_json(json: &str, path: &Path) -> Result<Self, BenchError> {
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let parse = |source| BenchError::Parse {
            path: path.to_path_buf(),
            source,
        };
        let v: Version = serde_json::from_str(json).map_err(parse)?;
        if v.schema_version != SCHEMA_VERSION {
            return Err(BenchError::SchemaVersion {
                path: path.to_path_buf(),
                found: v.schema_version,
                supported: SCHEMA_VERSION,
            });
        }
        serde_json::from_str(json).map_err(parse)
    }

    /// Writes the file atomically: a temporary file in the same directory, flushed to disk,
    /// then renamed over `path`. Readers see the old file or the new one, never a torn one.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), BenchError> {
        write_atomic(path.as_ref(), self.to_json()?.as_bytes())
    }

    /// Reads a file written by [`BenchFile::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, BenchError> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&json, path)
    }
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |action, p: &Path| {
        let p = p.to_path_buf();
        move |source| BenchError::Io {
            action,
            path: p,
            source,
        }
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io("create", &tmp))?;
        f.write_all(bytes).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io("rename", path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
