//! The real `burnish` binary: exit codes, error messages, atomic outputs.

mod common;

use burnish_model::compare::diff;
use burnish_model::read_tensors;

fn path(name: &str) -> String {
    common::fixtures().join(name).display().to_string()
}

#[test]
fn run_writes_outputs_matching_onnxruntime() {
    let dir = common::temp_dir("run");
    let out = dir.join("out.npz");
    let o = common::burnish(&[
        "run",
        &path("mlp.onnx"),
        "--inputs",
        &path("mlp.inputs.npz"),
        "--output",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = read_tensors(&out).unwrap();
    let want = read_tensors(path("mlp.outputs.npz")).unwrap();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, w) in &want {
        assert!(diff(&got[k], w).unwrap().max_rel <= 1e-4);
    }
}

#[test]
fn random_inputs_are_seeded_and_respect_dims() {
    let dir = common::temp_dir("random");
    let (a, b) = (dir.join("a.npz"), dir.join("b.npz"));
    for (file, seed) in [(&a, "7"), (&b, "7")] {
        let o = common::burnish(&[
            "run",
            &path("bert.onnx"),
            "--random-inputs",
            "--seed",
            seed,
            "--dim",
            "batch=3",
            "--dim",
            "seq=5",
            "--save-inputs",
            file.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (ta, tb) = (read_tensors(&a).unwrap(), read_tensors(&b).unwrap());
    assert_eq!(ta, tb);
    assert_eq!(ta["input_ids"].shape, vec![3, 5]);
}

#[test]
fn inspect_reports_ops_parameters_and_macs() {
    let o = common::burnish(&["inspect", &path("resnet_nchw.onnx"), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["opset"], 13);
    assert!(v["op_histogram"]["Conv"].as_u64().unwrap() > 0);
    assert!(v["parameters"].as_u64().unwrap() > 1000);
    assert!(v["macs_by_op"]["Conv"].as_u64().unwrap() > 1_000_000);
    assert_eq!(v["unsupported"].as_object().unwrap().len(), 0);
}

#[test]
fn missing_input_is_a_clear_error_and_writes_nothing() {
    let dir = common::temp_dir("missing");
    let empty = dir.join("empty.npz");
    burnish_model::write_npz(&empty, std::iter::empty()).unwrap();
    let out = dir.join("out.npz");
    let o = common::burnish(&[
        "run",
        &path("bert.onnx"),
        "--inputs",
        empty.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing input `input_ids`"), "{err}");
    // An error about the data names the data file, not the model.
    assert!(err.contains("empty.npz"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temp file left behind"
    );
}

#[test]
fn wrong_dtype_and_rank_are_reported() {
    let dir = common::temp_dir("dtype");
    let bad = dir.join("bad.npz");
    let x = burnish_model::TensorData::from_f32(vec![2, 7], vec![0.0; 14]);
    let m = burnish_model::TensorData::from_i64(vec![2, 7], vec![1; 14]);
    burnish_model::write_npz(&bad, [("input_ids", &x), ("attention_mask", &m)]).unwrap();
    let o = common::burnish(&["run", &path("bert.onnx"), "--inputs", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("input `input_ids` must be int64, got float")
    );

    let rank = dir.join("rank.npz");
    let x = burnish_model::TensorData::from_f32(vec![2, 64], vec![0.0; 128]);
    burnish_model::write_npz(&rank, [("x", &x)]).unwrap();
    let o = common::burnish(&["run", &path("mlp.onnx"), "--inputs", rank.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("input `x` must have shape [batch, 1, 8, 8]")
    );
}

#[test]
fn corrupt_model_is_an_error_naming_the_file() {
    let dir = common::temp_dir("corrupt");
    let bytes = std::fs::read(path("mlp.onnx")).unwrap();
    let bad = dir.join("truncated.onnx");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let o = common::burnish(&["run", bad.to_str().unwrap(), "--random-inputs"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("truncated.onnx") && err.contains("not a valid ONNX model"),
        "{err}"
    );
}

#[test]
fn choices_are_listed_and_checked_before_the_model_loads() {
    let o = common::burnish(&[
        "optimize",
        "no-such-model.onnx",
        "-o",
        "out.onnx",
        "--quantize",
        "int3",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("invalid value 'int3'") && err.contains("static-int8"),
        "{err}"
    );
    assert!(
        !err.contains("no-such-model"),
        "the model was opened: {err}"
    );
    let help = common::burnish(&["optimize", "-h"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for listed in [
        "[possible values: basic, extended]",
        "[possible values: u8, s8]",
        "[possible values: auto, 8, 7, 6]",
        "[possible values: leave-one-out, only-one]",
        "[possible values: abs, rel]",
    ] {
        assert!(help.contains(listed), "`{listed}` missing from:\n{help}");
    }
}
