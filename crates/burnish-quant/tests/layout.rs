//! The two static-int8 layouts on `tests/fixtures/quant_layout` (made by
//! `gen_quant_layout.py`): onnxruntime's quantizes around every op its QDQ transformers fuse;
//! burnish's leaves in float what its int8 lowering would run in float or run slower, and
//! both stay close to onnxruntime's float outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_model::{Model, TensorData, load_onnx, read_tensors};
use burnish_quant::{Calibration, QdqTarget, QuantConfig, quantize_for_burnish};
use burnish_runtime::{Session, SessionOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/quant_layout")
        .join(name)
}

fn quantized(target: QdqTarget) -> burnish_quant::Quantized {
    let model = load_onnx(fixture("model.onnx")).unwrap();
    let calibration = Calibration::from_npz(fixture("calibration.npz")).unwrap();
    let cfg = QuantConfig {
        target,
        ..QuantConfig::default()
    };
    quantize_for_burnish(&model, &cfg, Some(&calibration)).unwrap()
}

/// The op types reading `tensor` in `model`.
fn readers(model: &Model, tensor: &str) -> Vec<String> {
    model
        .graph
        .nodes
        .iter()
        .filter(|n| n.inputs.iter().any(|x| x == tensor))
        .map(|n| n.op_type.clone())
        .collect()
}

fn run(model: &Model, inputs: &BTreeMap<String, TensorData>) -> BTreeMap<String, TensorData> {
    Session::new(model, SessionOptions::default())
        .unwrap()
        .run(inputs)
        .unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let n = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

#[test]
fn burnish_keeps_float_what_its_int8_ops_would_not_speed_up() {
    let ours = quantized(QdqTarget::Burnish);
    let ort = quantized(QdqTarget::Onnxruntime);
    let anchors = |q: &burnish_quant::Quantized| q.record.activation_ops.clone();
    // onnxruntime fuses all of these into QLinear* kernels.
    for op in ["add", "softmax", "gate", "residual"] {
        assert!(anchors(&ort).iter().any(|a| a == op), "{:?}", anchors(&ort));
    }
    assert!(readers(&ort.qdq, "pq").contains(&"QuantizeLinear".to_string()));
    // burnish: the same-shape Add and the Softmax stay float, the gate and the residual
    // (a Sum, now an Add after two convs) stay int8.
    assert!(!anchors(&ours).iter().any(|a| a == "add" || a == "softmax"));
    assert!(anchors(&ours).iter().any(|a| a == "gate"));
    assert_eq!(readers(&ours.qdq, "pq"), ["Softmax"]);
    assert!(
        ours.record
            .notes
            .iter()
            .all(|n| !n.contains("two activation inputs")),
        "{:?}",
        ours.record.notes
    );
    let hist = ours.executed.graph.op_histogram();
    assert_eq!(hist.get("burnish::QLut2"), Some(&1), "{hist:?}");
    assert!(!hist.contains_key("Sum"), "{hist:?}");
    assert!(
        ours.record.quantize_nodes < ort.record.quantize_nodes,
        "{} vs {}",
        ours.record.quantize_nodes,
        ort.record.quantize_nodes
    );
}

#[test]
fn a_gemm_bias_shaped_1_by_n_is_quantized_to_int32() {
    let q = quantized(QdqTarget::Onnxruntime).qdq;
    let dense = q.graph.nodes.iter().find(|n| n.name == "dense").unwrap();
    let dq = q
        .graph
        .nodes
        .iter()
        .find(|n| n.outputs.first() == dense.inputs.get(2))
        .expect("the bias comes from a node");
    assert_eq!(dq.op_type, "DequantizeLinear");
    let codes = q.graph.initializers.get(&dq.inputs[0]).unwrap();
    assert_eq!(codes.dtype(), burnish_model::DType::I32);
    assert_eq!(codes.shape, [10]);
}

#[test]
fn both_layouts_follow_onnxruntime_float_outputs() {
    let expected = read_tensors(fixture("expected.npz")).unwrap();
    let inputs: BTreeMap<String, TensorData> = [("x".to_string(), expected["x"].clone())].into();
    for target in [QdqTarget::Burnish, QdqTarget::Onnxruntime] {
        let got = run(&quantized(target).executed, &inputs);
        for out in ["sm", "gram", "lg"] {
            let c = cosine(got[out].as_f32().unwrap(), expected[out].as_f32().unwrap());
            assert!(c > 0.99, "{target}: {out} cosine {c}");
        }
    }
}

#[test]
fn a_weight_filled_by_a_constant_node_is_quantized_whatever_its_size() {
    let model = load_onnx(fixture("fill_conv.onnx")).unwrap();
    let calibration = Calibration::from_npz(fixture("fill_calibration.npz")).unwrap();
    let q = quantize_for_burnish(&model, &QuantConfig::default(), Some(&calibration)).unwrap();
    let conv = q.record.nodes.iter().find(|n| n.node == "conv").unwrap();
    assert!(conv.quantized, "{conv:?}");
    assert_eq!(q.record.quantized_mac_share, 1.0);
}
