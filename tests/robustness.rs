//! No input file makes burnish panic: truncated and bit-flipped copies of every fixture either
//! load and run, or fail with an error.

mod common;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use burnish_model::decode_onnx;
use burnish_model::synth::random_inputs;
use burnish_runtime::{Session, SessionOptions};

fn exercise(bytes: &[u8]) -> Result<(), String> {
    let model = decode_onnx(bytes, "mutant.onnx", None).map_err(|e| e.to_string())?;
    let session =
        Session::new(&model, SessionOptions::threads(Some(1))).map_err(|e| e.to_string())?;
    let inputs = random_inputs(&model.graph, &HashMap::new(), 1).map_err(|e| e.to_string())?;
    session.run(&inputs).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn truncated_and_bit_flipped_models_never_panic() {
    let mut state = 0x1234_5678_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut errors = 0;
    for name in common::fixture_names() {
        let bytes = std::fs::read(common::fixtures().join(format!("{name}.onnx"))).unwrap();
        let mut mutants = Vec::new();
        for frac in [0, 1, 2, 5, 10, 30, 50, 90, 99] {
            mutants.push(bytes[..bytes.len() * frac / 100].to_vec());
        }
        for _ in 0..12 {
            let mut m = bytes.clone();
            // Flip bits in the structural prefix, where they change the graph, not just a weight.
            let limit = m.len().min(4096);
            for _ in 0..3 {
                let i = (next() as usize) % limit;
                m[i] ^= 1 << (next() % 8);
            }
            mutants.push(m);
        }
        for (i, m) in mutants.iter().enumerate() {
            let r = catch_unwind(AssertUnwindSafe(|| exercise(m)));
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    errors += 1;
                    assert!(!e.is_empty());
                }
                Err(_) => panic!("{name} mutant #{i} panicked"),
            }
        }
    }
    assert!(errors > 0, "mutations should break at least some models");
}

/// The committed hostile graphs (`tests/fixtures/gen/gen_invalid.py`), by kind.
fn invalid_models(kind: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 20, "{} holds too few cases", dir.display());
    files
}

#[test]
fn models_the_onnx_checker_rejects_fail_at_load_naming_the_file() {
    for path in invalid_models("load") {
        match burnish_model::load_onnx(&path) {
            Ok(_) => panic!("{} loaded; it is invalid", path.display()),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains(&path.display().to_string()),
                    "{}: the error names no file: {message}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn models_whose_runs_must_fail_give_errors_not_panics() {
    burnish_model::limits::set_max_tensor_bytes(256 << 20);
    for path in invalid_models("run") {
        let bytes = std::fs::read(&path).unwrap();
        match catch_unwind(AssertUnwindSafe(|| exercise(&bytes))) {
            Ok(Ok(())) => panic!("{} ran; it must fail", path.display()),
            Ok(Err(e)) => assert!(!e.is_empty()),
            Err(_) => panic!("{} panicked", path.display()),
        }
    }
}
