//! Replays the minimized inputs the fuzz targets found (`tests/fixtures/fuzz/TARGET/*`), and
//! the committed seeds of targets whose inputs are easy to write (`v2_request`, from
//! `tests/fixtures/fuzz/gen_v2_request_seeds.py`), through the same harness the targets run
//! (`fuzz/src/harness.rs`): each must end in a result or an error, never a panic.
//! `fuzz/README.md` says how findings get here.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[path = "../fuzz/src/harness.rs"]
#[allow(dead_code)]
mod harness;

#[test]
fn fuzz_findings_no_longer_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut replayed = 0;
    let mut failures = Vec::new();
    for (target, run) in harness::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            replayed += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&bytes))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}/{}: {message}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz findings panic again:\n{}",
        failures.join("\n")
    );
    eprintln!("replayed {replayed} fuzz findings");
}

#[test]
fn every_target_has_a_regression_folder_or_none_yet() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            assert!(
                harness::TARGETS.iter().any(|(t, _)| *t == name),
                "tests/fixtures/fuzz/{name} names no fuzz target"
            );
        }
    }
}

/// The valid `v2_request` seeds get through every check, so the harness's invariants on
/// decoded tensors run; the near misses are refused.
#[test]
fn v2_request_seeds_reach_the_decoded_tensors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/v2_request");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    for (seed, inputs) in [
        ("http_json", 5),
        ("http_binary", 5),
        ("grpc_typed", 5),
        ("grpc_raw", 5),
    ] {
        assert_eq!(harness::v2_decoded(&read(seed)), Some(inputs), "{seed}");
    }
    for seed in ["http_short_binary", "grpc_wrong_dtype"] {
        assert_eq!(harness::v2_decoded(&read(seed)), None, "{seed}");
    }
}
