//! Running test cases in the ONNX backend-test layout: `model.onnx` plus
//! `test_data_set_*/input_*.pb` and `output_*.pb` (serialized `TensorProto`s).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burnish_model::compare::{allclose, diff};
use burnish_model::onnx::decode_tensor;
use burnish_model::{TensorData, load_onnx};
use onnx_ir::{Message, TensorProto};

use crate::error::RuntimeError;
use crate::session::{Session, SessionOptions};

/// Relative tolerance of the ONNX backend-test runner.
pub const RTOL: f64 = 1e-3;
/// Absolute tolerance of the ONNX backend-test runner.
pub const ATOL: f64 = 1e-7;

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every output of every data set matched.
    Pass,
    /// An output differed (or the case failed to load or run).
    Fail {
        /// What went wrong, with the largest error where outputs were compared.
        reason: String,
    },
    /// The model uses ops the runtime does not implement.
    Unsupported {
        /// The missing ops.
        ops: Vec<String>,
    },
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case name (its folder name).
    pub name: String,
    /// The outcome.
    pub outcome: Outcome,
}

/// Finds case folders: `dir` itself when it holds `model.onnx`, else its sub-folders that do.
pub fn discover(dir: &Path) -> Vec<PathBuf> {
    if dir.join("model.onnx").is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("model.onnx").is_file())
        .collect();
    cases.sort();
    cases
}

fn read_pb(path: &Path) -> Result<TensorData, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let proto = TensorProto::parse_from_bytes(&bytes)
        .map_err(|e| format!("`{}`: not a TensorProto: {e}", path.display()))?;
    decode_tensor(&proto, path.parent()).map_err(|e| format!("`{}`: {e}", path.display()))
}

fn numbered(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_prefix(prefix)?
                .strip_suffix(".pb")?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// Runs one case folder.
pub fn run_case(dir: &Path, threads: Option<usize>) -> CaseResult {
    let name = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let outcome = match run_case_inner(dir, threads) {
        Ok(()) => Outcome::Pass,
        Err(CaseError::Unsupported(ops)) => Outcome::Unsupported { ops },
        Err(CaseError::Fail(reason)) => Outcome::Fail { reason },
    };
    CaseResult { name, outcome }
}

enum CaseError {
    Unsupported(Vec<String>),
    Fail(String),
}

impl From<String> for CaseError {
    fn from(s: String) -> Self {
        CaseError::Fail(s)
    }
}

/// Load failures caused by element types the runtime does not represent (float8, int4,
/// complex, ...) count as unsupported, not as failures.
fn load_error(e: String) -> CaseError {
    match e.find("unsupported tensor data type code") {
        Some(i) => CaseError::Unsupported(vec![e[i..].to_string()]),
        None => CaseError::Fail(e),
    }
}

fn run_case_inner(dir: &Path, threads: Option<usize>) -> Result<(), CaseError> {
    let model = load_onnx(dir.join("model.onnx")).map_err(|e| load_error(e.to_string()))?;
    let session = match Session::new(&model, SessionOptions::threads(threads)) {
        Ok(s) => s,
        Err(RuntimeError::UnsupportedOps { ops }) => {
            return Err(CaseError::Unsupported(ops.into_keys().collect()));
        }
        Err(e) => return Err(load_error(e.to_string())),
    };
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("test_data_set"))
        })
        .collect();
    sets.sort();
    if sets.is_empty() {
        return Err(CaseError::Fail("no test_data_set_* folder".into()));
    }
    let input_names: Vec<String> = session.inputs().iter().map(|i| i.name.clone()).collect();
    let output_names: Vec<String> = session
        .output_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for set in sets {
        let mut inputs = BTreeMap::new();
        let files = numbered(&set, "input_");
        if files.len() > input_names.len() {
            return Err(CaseError::Fail(format!(
                "{} input files for {} inputs",
                files.len(),
                input_names.len()
            )));
        }
        for (file, name) in files.iter().zip(&input_names) {
            inputs.insert(name.clone(), read_pb(file).map_err(load_error)?);
        }
        let outputs = session.run(&inputs).map_err(|e| e.to_string())?;
        for (file, name) in numbered(&set, "output_").iter().zip(&output_names) {
            let expected = read_pb(file).map_err(load_error)?;
            let actual = outputs
                .get(name)
                .ok_or_else(|| format!("output `{name}` missing"))?;
            if !allclose(actual, &expected, RTOL, ATOL)
                .map_err(|e| format!("output `{name}`: {e}"))?
            {
                let d = diff(actual, &expected).map_err(|e| format!("output `{name}`: {e}"))?;
                return Err(CaseError::Fail(format!(
                    "output `{name}`: max abs error {:.3e}, max rel error {:.3e}",
                    d.max_abs, d.max_rel
                )));
            }
        }
    }
    Ok(())
}
