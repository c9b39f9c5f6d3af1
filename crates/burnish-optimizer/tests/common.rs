//! Shared helpers for the optimizer tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_model::{Model, TensorData, load_onnx, read_tensors};
use burnish_optimizer::{Level, OptimizationRecord, OptimizeOptions, PassManager};
use burnish_runtime::{Session, SessionOptions};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fixture models that have committed inputs and onnxruntime outputs.
pub fn fixture_names() -> Vec<String> {
    let dir = root().join("tests/fixtures/models");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let stem = n.strip_suffix(".onnx")?.to_string();
            dir.join(format!("{stem}.outputs.npz"))
                .is_file()
                .then_some(stem)
        })
        .collect();
    names.sort();
    names
}

/// Model, committed inputs and onnxruntime outputs of a fixture.
pub fn fixture(
    name: &str,
) -> (
    Model,
    BTreeMap<String, TensorData>,
    BTreeMap<String, TensorData>,
) {
    let dir = root().join("tests/fixtures/models");
    (
        load_onnx(dir.join(format!("{name}.onnx"))).unwrap(),
        read_tensors(dir.join(format!("{name}.inputs.npz"))).unwrap(),
        read_tensors(dir.join(format!("{name}.outputs.npz"))).unwrap(),
    )
}

/// Runs a model.
pub fn run(model: &Model, inputs: &BTreeMap<String, TensorData>) -> BTreeMap<String, TensorData> {
    Session::new(model, SessionOptions::threads(Some(1)))
        .unwrap()
        .run(inputs)
        .unwrap()
}

/// Optimizes a copy of `model` with `--verify` on.
pub fn optimize(model: &Model, level: Level, only: &[&str]) -> (Model, OptimizationRecord) {
    let mut m = model.clone();
    let options = OptimizeOptions {
        level,
        verify: true,
        only: only.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let record = PassManager::new(options).unwrap().run(&mut m).unwrap();
    (m, record)
}

/// Asserts every output of `want` is matched in `got` within `rel` (relative to the output's
/// scale, see `burnish_model::compare::diff`).
pub fn assert_close(
    what: &str,
    got: &BTreeMap<String, TensorData>,
    want: &BTreeMap<String, TensorData>,
    rel: f64,
) {
    for (k, w) in want {
        let g = got
            .get(k)
            .unwrap_or_else(|| panic!("{what}: output `{k}` missing"));
        let d = burnish_model::compare::diff(g, w).unwrap_or_else(|e| panic!("{what}: `{k}`: {e}"));
        assert!(
            d.max_rel <= rel,
            "{what}: `{k}` max_rel {} > {rel} (max_abs {})",
            d.max_rel,
            d.max_abs
        );
    }
}

/// Tolerance relative to the unoptimized model: 1e-5 for passes that compute the same
/// operations, 1e-4 for those that fold arithmetic into weights (float rounding differs).
pub fn tolerance(pass: &str) -> f64 {
    match pass {
        "fuse_conv_batchnorm" | "fold_conv_add_mul" | "" => 1e-4,
        _ => 1e-5,
    }
}
