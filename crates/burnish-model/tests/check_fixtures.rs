//! The model checker accepts every committed fixture: each was written by an exporter or by
//! `onnx.helper` and loaded by onnxruntime when it was generated, so any issue is a false alarm.

use std::path::{Path, PathBuf};

use burnish_model::{check, load_onnx};

fn onnx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            onnx_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "onnx") {
            out.push(p);
        }
    }
}

#[test]
fn every_fixture_passes_the_checker() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files = Vec::new();
    onnx_files(&root, &mut files);
    assert!(files.len() > 50, "found {} fixtures", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let Ok(m) = load_onnx(f) else { continue };
        for issue in check::check(&m) {
            bad.push(format!("{}: {issue}", f.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
