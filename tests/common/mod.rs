//! Shared helpers for the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The committed fixture folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

/// Every fixture model that has committed inputs and expected outputs.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures folder")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".onnx")?.to_string();
            fixtures()
                .join(format!("{stem}.outputs.npz"))
                .is_file()
                .then_some(stem)
        })
        .collect();
    names.sort();
    names
}

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "burnish-test-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs the real `burnish` binary.
pub fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("burnish binary runs")
}

/// `burnish optimize digits_cnn.onnx -o OUT --quantize static-int8` on the digits calibration
/// samples with `method`, plus `extra` arguments.
pub fn quantize_digits(out: &Path, method: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--calibration-method", method];
    args.extend_from_slice(extra);
    quantize_static("digits_cnn.onnx", "digits_calibration.npz", out, &args)
}

/// `burnish optimize MODEL -o OUT --quantize static-int8 --calibration CALIBRATION`, plus
/// `extra` arguments (fixture paths).
pub fn quantize_static(model: &str, calibration: &str, out: &Path, extra: &[&str]) -> Output {
    let path = |name: &str| fixtures().join(name).display().to_string();
    let (model, calibration) = (path(model), path(calibration));
    let mut args = vec![
        "optimize",
        &model,
        "-o",
        out.to_str().expect("a UTF-8 temp path"),
        "--quantize",
        "static-int8",
        "--calibration",
        &calibration,
    ];
    args.extend_from_slice(extra);
    burnish(&args)
}
