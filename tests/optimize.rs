//! `burnish optimize` end to end: the real binary, its table, `OUT.onnx` and `OUT.json`.

mod common;

use burnish_model::compare::diff;
use burnish_model::{load_onnx, read_tensors};
use burnish_runtime::{Session, SessionOptions};

fn fixture(name: &str) -> String {
    common::fixtures().join(name).display().to_string()
}

#[test]
fn optimize_writes_model_and_record_that_match_onnxruntime() {
    let dir = common::temp_dir("optimize");
    let out = dir.join("resnet.opt.onnx");
    let o = common::burnish(&[
        "optimize",
        &fixture("resnet_nchw.onnx"),
        "-o",
        out.to_str().unwrap(),
        "--verify",
        "--inputs",
        &fixture("resnet_nchw.inputs.npz"),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("fuse_conv_batchnorm") && stdout.contains("max rel"),
        "{stdout}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("resnet.opt.json")).unwrap())
            .unwrap();
    let bn = record["record"]["passes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fuse_conv_batchnorm")
        .unwrap();
    assert_eq!(bn["changes"], 11);
    assert!(record["record"]["nodes_after"].as_u64() < record["record"]["nodes_before"].as_u64());
    let model = load_onnx(&out).unwrap();
    assert!(model.graph.nodes.iter().all(|n| n.domain.is_empty()));
    assert!(
        !model
            .graph
            .op_histogram()
            .contains_key("BatchNormalization")
    );
    let inputs = read_tensors(fixture("resnet_nchw.inputs.npz")).unwrap();
    let want = read_tensors(fixture("resnet_nchw.outputs.npz")).unwrap();
    let got = Session::new(&model, SessionOptions::threads(Some(1)))
        .unwrap()
        .run(&inputs)
        .unwrap();
    for (k, w) in &want {
        assert!(diff(&got[k], w).unwrap().max_rel <= 1e-4, "{k}");
    }
}

#[test]
fn optimize_rejects_unknown_passes_and_keeps_fused_ops_on_request() {
    let dir = common::temp_dir("optimize-args");
    let out = dir.join("mlp.onnx");
    let o = common::burnish(&[
        "optimize",
        &fixture("mlp.onnx"),
        "-o",
        out.to_str().unwrap(),
        "--only",
        "no_such_pass",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no_such_pass"));
    assert!(!out.exists());
    let o = common::burnish(&[
        "optimize",
        &fixture("mlp.onnx"),
        "-o",
        out.to_str().unwrap(),
        "--keep-fused",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let model = load_onnx(&out).unwrap();
    assert!(model.opsets.contains_key("burnish"));
    assert!(model.graph.nodes.iter().any(|n| n.domain == "burnish"));
}
