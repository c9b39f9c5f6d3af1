//! Running test cases in the ONNX backend-test layout: `model.onnx` plus
//! `test_data_set_*/input_*.pb` and `output_*.pb` (serialized `TensorProto`s, or
//! `SequenceProto`s / `OptionalProto`s where the model declares a sequence or optional type).

mod data;
mod summary;

pub use summary::{OpSummary, case_ops, per_op};

use std::path::{Path, PathBuf};

use burnish_model::compare::{allclose, diff};
use burnish_model::decode_onnx;

use self::data::{Data, Kind};
use crate::error::RuntimeError;
use crate::session::{Session, SessionOptions};
use crate::value::Value;

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
    let path = dir.join("model.onnx");
    let bytes = std::fs::read(&path).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let kinds = data::declared_kinds(&bytes).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let kind_of = |name: &str| kinds.get(name).copied().unwrap_or(Kind::Tensor);
    let model = decode_onnx(&bytes, &path.display().to_string(), Some(dir))
        .map_err(|e| load_error(e.to_string()))?;
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
        let files = numbered(&set, "input_");
        if files.len() != input_names.len() {
            return Err(CaseError::Fail(format!(
                "{} input files for {} inputs",
                files.len(),
                input_names.len()
            )));
        }
        let mut inputs = Vec::with_capacity(files.len());
        for (file, name) in files.iter().zip(&input_names) {
            let d = data::read(file, kind_of(name)).map_err(load_error)?;
            inputs.push(d.into_value().map_err(|e| format!("input `{name}`: {e}"))?);
        }
        let outputs = session.run_values(inputs).map_err(|e| e.to_string())?;
        for ((file, name), actual) in numbered(&set, "output_")
            .iter()
            .zip(&output_names)
            .zip(&outputs)
        {
            let expected = data::read(file, kind_of(name)).map_err(load_error)?;
            compare(actual, &expected, name)?;
        }
    }
    Ok(())
}

/// Compares an output with its expected data: tensors within the tolerances, sequences of the
/// same length element by element, optionals both empty or both full. `label` names the
/// output (and the position inside it) in the failure.
fn compare(actual: &Value, expected: &Data, label: &str) -> Result<(), CaseError> {
    match (actual, expected) {
        (Value::Sequence(a), Data::Sequence(e)) => {
            if a.len() != e.len() {
                return Err(CaseError::Fail(format!(
                    "output `{label}`: sequence of {}, expected {}",
                    a.len(),
                    e.len()
                )));
            }
            for (i, (a, e)) in a.iter().zip(e).enumerate() {
                compare(a, e, &format!("{label}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Optional(a), Data::Optional(e)) => match (a, e) {
            (None, None) => Ok(()),
            (Some(a), Some(e)) => compare(a, e, &format!("{label}?")),
            (None, Some(_)) => Err(CaseError::Fail(format!(
                "output `{label}`: empty optional, expected a value"
            ))),
            (Some(_), None) => Err(CaseError::Fail(format!(
                "output `{label}`: an optional with a value, expected an empty one"
            ))),
        },
        (a, Data::Tensor(e)) if a.is_tensor() => {
            let a = a.to_data().map_err(|e| format!("output `{label}`: {e}"))?;
            if !allclose(&a, e, RTOL, ATOL).map_err(|e| format!("output `{label}`: {e}"))? {
                let d = diff(&a, e).map_err(|e| format!("output `{label}`: {e}"))?;
                return Err(CaseError::Fail(format!(
                    "output `{label}`: max abs error {:.3e}, max rel error {:.3e}",
                    d.max_abs, d.max_rel
                )));
            }
            Ok(())
        }
        (a, e) => {
            let want = match e {
                Data::Tensor(_) => "a tensor",
                Data::Sequence(_) => "a sequence",
                Data::Optional(_) => "an optional",
            };
            Err(CaseError::Fail(format!(
                "output `{label}` is {}, expected {want}",
                a.kind()
            )))
        }
    }
}
