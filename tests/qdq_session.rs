//! A QDQ model runs on burnish's int8 ops whoever loads it: `Session::new` lowers its QDQ
//! patterns when it is built (`SessionOptions::qdq_int8`, on by default), as onnxruntime's QDQ
//! transformers do. The model is onnxruntime's own `quantize_static` output for `digits_cnn`
//! (`tests/fixtures/gen/gen_quant_ops.py`), with onnxruntime's outputs on the same inputs.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_model::compare::diff;
use burnish_model::{Model, TensorData, load_onnx, read_tensors};
use burnish_runtime::profile::profile;
use burnish_runtime::{Session, SessionOptions, lower_qdq};

fn quant_fixture(name: &str) -> PathBuf {
    common::fixtures().join("../quant").join(name)
}

fn qdq_model() -> Model {
    load_onnx(quant_fixture("digits_cnn_qdq.onnx")).unwrap()
}

fn options(qdq_int8: bool) -> SessionOptions {
    SessionOptions {
        qdq_int8,
        ..SessionOptions::threads(Some(1))
    }
}

/// Outputs and the op type of every executed step.
fn run(
    model: &Model,
    options: SessionOptions,
    inputs: &BTreeMap<String, TensorData>,
) -> (BTreeMap<String, TensorData>, Vec<String>) {
    let session = Session::new(model, options).unwrap();
    let values = session.prepare_inputs(inputs).unwrap();
    let (outs, timings) = session.run_profiled(values).unwrap();
    let outs = session
        .output_names()
        .into_iter()
        .zip(outs)
        .map(|(n, v)| (n.to_string(), v.to_data().unwrap()))
        .collect();
    (outs, timings.into_iter().map(|t| t.op_type).collect())
}

fn count(ops: &[String], op: &str) -> usize {
    ops.iter().filter(|o| *o == op).count()
}

/// One step of the output grid: the scale of the `QuantizeLinear` the logits come out of.
fn logits_step(model: &Model) -> f64 {
    let q = model
        .graph
        .nodes
        .iter()
        .find(|n| n.op_type == "QuantizeLinear" && n.name.starts_with("logits"))
        .unwrap();
    model.graph.initializers[&q.inputs[1]].to_f64_vec().unwrap()[0]
}

fn assert_within_one_step(
    got: &BTreeMap<String, TensorData>,
    want: &BTreeMap<String, TensorData>,
    step: f64,
    what: &str,
) {
    for (k, w) in want {
        let d = diff(&got[k], w).unwrap();
        eprintln!(
            "{what}: max abs vs onnxruntime {:.3e} (one step {step:.3e})",
            d.max_abs
        );
        assert!(d.max_abs <= step * 1.001, "{what} `{k}`: {d:?}");
    }
}

#[test]
fn default_session_runs_the_qdq_model_on_int8_ops_within_one_step_of_onnxruntime() {
    let model = qdq_model();
    let inputs = read_tensors(quant_fixture("digits_cnn_qdq.inputs.npz")).unwrap();
    let want = read_tensors(quant_fixture("digits_cnn_qdq.outputs.npz")).unwrap();
    let step = logits_step(&model);

    let (got, ops) = run(&model, options(true), &inputs);
    assert_eq!(
        (count(&ops, "QConv"), count(&ops, "QMatMul")),
        (2, 2),
        "{ops:?}"
    );
    for float_op in ["Conv", "Gemm"] {
        assert_eq!(count(&ops, float_op), 0, "{ops:?}");
    }
    assert_within_one_step(&got, &want, step, "int8 ops");

    let (float_got, float_ops) = run(&model, options(false), &inputs);
    assert_eq!(
        (count(&float_ops, "Conv"), count(&float_ops, "Gemm")),
        (2, 2)
    );
    assert_eq!(count(&float_ops, "QConv") + count(&float_ops, "QMatMul"), 0);
    assert_within_one_step(&float_got, &want, step, "QDQ graph in float");
}

#[test]
fn the_session_lowers_exactly_like_lower_qdq_and_lowering_twice_changes_nothing() {
    let model = qdq_model();
    let mut lowered = model.clone();
    let first = lower_qdq(&mut lowered).unwrap();
    assert_eq!((first.qconv, first.qmatmul), (2, 2), "{first:?}");

    let mut again = lowered.clone();
    let second = lower_qdq(&mut again).unwrap();
    let changes = second.shape_ops_on_codes
        + second.qconv
        + second.qmatmul
        + second.dynamic_matmul
        + second.residual_adds
        + second.folded_dequantize;
    assert_eq!(changes, 0, "{second:?}");
    assert!(again == lowered, "a second lowering rewrote the graph");

    let inputs = read_tensors(quant_fixture("digits_cnn_qdq.inputs.npz")).unwrap();
    let (from_qdq, ops_qdq) = run(&model, options(true), &inputs);
    let (from_lowered, ops_lowered) = run(&lowered, options(true), &inputs);
    assert_eq!(ops_qdq, ops_lowered);
    assert_eq!(from_qdq, from_lowered);
}

#[test]
fn a_model_without_qdq_compiles_as_before() {
    let model = load_onnx(common::fixtures().join("digits_cnn.onnx")).unwrap();
    let test = read_tensors(common::fixtures().join("digits_test.npz")).unwrap();
    let inputs = BTreeMap::from([("input".to_string(), test["x"].clone())]);
    let (on, ops_on) = run(&model, options(true), &inputs);
    let (off, ops_off) = run(&model, options(false), &inputs);
    assert_eq!(ops_on, ops_off);
    assert!(ops_on.iter().any(|o| o.starts_with("Conv")), "{ops_on:?}");
    assert_eq!(on, off);
}

#[test]
fn profile_names_the_int8_nodes_after_the_authored_ones() {
    let model = qdq_model();
    let session = Session::new(&model, options(true)).unwrap();
    let inputs = read_tensors(quant_fixture("digits_cnn_qdq.inputs.npz")).unwrap();
    let values = session.prepare_inputs(&inputs).unwrap();
    let p = profile(&model, &session, &values, 1).unwrap();
    let mut qconv: Vec<&str> = p
        .nodes
        .iter()
        .filter(|n| n.op_type == "QConv")
        .map(|n| n.name.as_str())
        .collect();
    qconv.sort_unstable();
    assert_eq!(qconv, ["/conv1/Conv", "/conv2/Conv"]);
    let row = p.ops.iter().find(|o| o.op_type == "QConv").unwrap();
    assert_eq!(row.calls, 2);
}

#[test]
fn burnish_profile_lists_qconv_for_a_plain_qdq_file() {
    let model = quant_fixture("digits_cnn_qdq.onnx");
    let inputs = quant_fixture("digits_cnn_qdq.inputs.npz");
    let o = common::burnish(&[
        "profile",
        model.to_str().unwrap(),
        "--inputs",
        inputs.to_str().unwrap(),
        "--runs",
        "1",
        "--threads",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let calls = |op: &str| {
        p["ops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["op_type"] == op)
            .map_or(0, |r| r["calls"].as_u64().unwrap())
    };
    assert_eq!((calls("QConv"), calls("QMatMul")), (2, 2), "{p}");
    assert_eq!(calls("Conv") + calls("Gemm"), 0, "{p}");
}
