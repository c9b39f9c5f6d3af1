//! Every committed op case under `tests/fixtures/ops/<family>/<case>/` (backend-test layout,
//! expected outputs from onnxruntime or the ONNX reference evaluator, made by the committed
//! `tests/fixtures/gen/gen_ops_*.py` scripts) passes.

use std::path::{Path, PathBuf};

use burnish_runtime::conformance::{Outcome, discover, run_case};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ops");
    let mut all = Vec::new();
    for family in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        if family.path().is_dir() {
            all.extend(discover(&family.path()));
        }
    }
    all.sort();
    all
}

#[test]
fn every_committed_op_case_passes() {
    let cases = cases();
    assert!(
        cases.len() > 100,
        "only {} op cases were found",
        cases.len()
    );
    let mut failures = Vec::new();
    for dir in &cases {
        for threads in [Some(1), Some(2)] {
            let result = run_case(dir, threads);
            if result.outcome != Outcome::Pass {
                failures.push(format!(
                    "{} ({threads:?} threads): {:?}",
                    dir.display(),
                    result.outcome
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
