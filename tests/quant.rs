//! Quantization end to end: accuracy of static int8 `digits_cnn` against its labels (float
//! accuracy 0.9711 measured by onnxruntime, `digits_cnn.json`), exports that load back, and
//! dynamic int8 / int4 / f16 outputs against the onnxruntime float reference outputs.

mod common;

use std::collections::BTreeMap;

use burnish_model::compare::diff;
use burnish_model::{Model, TensorData, load_onnx, read_tensors};
use burnish_quant::{Calibration, QuantConfig, QuantMode, lower_qdq, quantize};
use burnish_runtime::{Session, SessionOptions};

fn fixture(name: &str) -> String {
    common::fixtures().join(name).display().to_string()
}

fn float_accuracy() -> f64 {
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("digits_cnn.json")).unwrap())
            .unwrap();
    info["test_accuracy"].as_f64().unwrap()
}

/// Runs the graph as written: QDQ nodes in float (onnxruntime's QDQ semantics), int8 ops only
/// where the graph itself holds them (after an explicit `lower_qdq`).
fn run(model: &Model, inputs: &BTreeMap<String, TensorData>) -> BTreeMap<String, TensorData> {
    let options = SessionOptions {
        qdq_int8: false,
        ..SessionOptions::threads(Some(1))
    };
    Session::new(model, options).unwrap().run(inputs).unwrap()
}

fn digits_accuracy(model: &Model) -> f64 {
    let test = read_tensors(fixture("digits_test.npz")).unwrap();
    let labels = test["y"].to_i64_vec().unwrap();
    let out = run(
        model,
        &BTreeMap::from([("input".into(), test["x"].clone())]),
    );
    let logits = out["logits"].to_f64_vec().unwrap();
    let hits = labels
        .iter()
        .enumerate()
        .filter(|&(i, &label)| {
            let row = &logits[i * 10..(i + 1) * 10];
            let best = (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            best as i64 == label
        })
        .count();
    hits as f64 / labels.len() as f64
}

#[test]
fn static_int8_digits_stays_within_one_point_of_float_for_every_method() {
    let model = load_onnx(fixture("digits_cnn.onnx")).unwrap();
    let cal = Calibration::from_npz(fixture("digits_calibration.npz")).unwrap();
    let reference = float_accuracy();
    for method in ["minmax", "percentile:99.99", "entropy", "mse"] {
        for activation in ["u8", "s8"] {
            let cfg = QuantConfig {
                method: method.parse().unwrap(),
                activation_type: activation.parse().unwrap(),
                ..Default::default()
            };
            let (qdq, record) = quantize(&model, &cfg, Some(&cal)).unwrap();
            assert!(record.quantized_mac_share > 0.999, "{record:?}");
            assert_eq!(record.tensors.len(), 6, "{:?}", record.tensors);
            let mut lowered = qdq.clone();
            let lrec = lower_qdq(&mut lowered).unwrap();
            assert_eq!((lrec.qconv, lrec.qmatmul), (2, 2), "{lrec:?}");
            for (what, m) in [("qdq", &qdq), ("int8 ops", &lowered)] {
                let acc = digits_accuracy(m);
                eprintln!("static-int8 {method} {activation} {what}: accuracy {acc:.4}");
                assert!(
                    acc >= reference - 0.01,
                    "{method} {activation} {what}: accuracy {acc} vs float {reference}"
                );
            }
        }
    }
}

#[test]
fn excluded_nodes_stay_in_float_and_are_recorded() {
    let model = load_onnx(fixture("digits_cnn.onnx")).unwrap();
    let cal = Calibration::from_npz(fixture("digits_calibration.npz")).unwrap();
    let first = model
        .graph
        .nodes
        .iter()
        .find(|n| n.op_type == "Conv")
        .unwrap();
    let cfg = QuantConfig {
        exclude_nodes: vec![first.name.clone()],
        ..Default::default()
    };
    let (q, record) = quantize(&model, &cfg, Some(&cal)).unwrap();
    let d = record.nodes.iter().find(|d| d.node == first.name).unwrap();
    assert!(!d.quantized && d.reason.as_deref().unwrap().contains("excluded"));
    assert!(record.quantized_mac_share < 1.0 && record.quantized_mac_share > 0.5);
    let conv = q.graph.nodes.iter().find(|n| n.name == first.name).unwrap();
    assert_eq!(conv.inputs[1], first.inputs[1], "weight left as authored");
    assert!(digits_accuracy(&q) >= float_accuracy() - 0.01);
}

#[test]
fn static_export_loads_back_and_keep_fused_writes_int8_ops() {
    let dir = common::temp_dir("quant-export");
    for (file, extra) in [("qdq.onnx", None), ("fused.onnx", Some("--keep-fused"))] {
        let out = dir.join(file);
        let o = common::quantize_digits(&out, "percentile:99.99", extra.as_slice());
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let model = load_onnx(&out).unwrap();
        let ops = model.graph.op_histogram();
        if extra.is_none() {
            assert!(
                model.graph.nodes.iter().all(|n| n.domain.is_empty()),
                "{ops:?}"
            );
            assert_eq!(ops.get("QuantizeLinear"), Some(&6), "{ops:?}");
        } else {
            assert_eq!(ops.get("burnish::QConv"), Some(&2), "{ops:?}");
        }
        assert!(digits_accuracy(&model) >= float_accuracy() - 0.01);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap())
                .unwrap();
        let q = &json["quantization"];
        assert_eq!(q["mode"], "static-int8");
        assert_eq!(q["method"], "percentile:99.99");
        assert!(q["quantized_mac_share"].as_f64().unwrap() > 0.999);
        // Says how the AVX2 saturation problem is avoided: 7-bit conv weights (vpmaddubsw) on
        // AVX2 without VNNI, exact 16-bit products (vpmaddwd) otherwise.
        let notes = q["notes"].to_string();
        assert!(notes.contains("saturation"), "{notes}");
    }
}

/// Max |got - want| over every output, and the largest |want|.
fn error_vs_reference(model: &Model, name: &str) -> (f64, f64) {
    let inputs = read_tensors(fixture(&format!("{name}.inputs.npz"))).unwrap();
    let want = read_tensors(fixture(&format!("{name}.outputs.npz"))).unwrap();
    let got = run(model, &inputs);
    want.iter()
        .map(|(k, w)| {
            let d = diff(&got[k], w).unwrap();
            let top = w
                .to_f64_vec()
                .unwrap()
                .iter()
                .fold(0f64, |m, x| m.max(x.abs()));
            (d.max_abs, top)
        })
        .fold((0.0, 0.0), |(a, b), (c, d)| (a.max(c), b.max(d)))
}

#[test]
fn dynamic_int8_mlp_and_bert_stay_close_to_the_float_reference() {
    for (name, tolerance) in [("mlp", 0.02), ("bert", 0.05)] {
        let model = load_onnx(fixture(&format!("{name}.onnx"))).unwrap();
        let cfg = QuantConfig {
            mode: QuantMode::DynamicInt8,
            ..Default::default()
        };
        let (qdq, record) = quantize(&model, &cfg, None).unwrap();
        assert!(record.quantized_mac_share > 0.5, "{name}: {record:?}");
        let mut lowered = qdq.clone();
        let lrec = lower_qdq(&mut lowered).unwrap();
        assert!(lrec.dynamic_matmul > 0, "{name}: {lrec:?}");
        for (what, m) in [("qdq", &qdq), ("int8 ops", &lowered)] {
            let (err, top) = error_vs_reference(m, name);
            eprintln!(
                "dynamic-int8 {name} {what}: max abs error {err:.3e}, max |output| {top:.3e}"
            );
            assert!(
                err <= tolerance * top.max(1.0),
                "{name} {what}: max abs error {err} (outputs up to {top})"
            );
        }
    }
}

#[test]
fn int4_weights_mlp_stays_close_to_the_float_reference() {
    let model = load_onnx(fixture("mlp.onnx")).unwrap();
    for block_size in [32, 128] {
        let cfg = QuantConfig {
            mode: QuantMode::Int4Weights,
            block_size,
            ..Default::default()
        };
        let (q, record) = quantize(&model, &cfg, None).unwrap();
        assert_eq!(q.opset(), 21);
        assert!(record.quantized_mac_share > 0.9, "{record:?}");
        let mut lowered = q.clone();
        let lrec = lower_qdq(&mut lowered).unwrap();
        assert!(lrec.folded_dequantize > 0);
        for m in [&q, &lowered] {
            let (err, top) = error_vs_reference(m, "mlp");
            eprintln!(
                "int4-weights block {block_size}: max abs error {err:.3e}, max |output| {top:.3e}"
            );
            assert!(
                err <= 0.1 * top.max(1.0),
                "block {block_size}: {err} vs {top}"
            );
        }
    }
}

#[test]
fn f16_resnet_stays_close_to_the_float_reference() {
    let model = load_onnx(fixture("resnet_nchw.onnx")).unwrap();
    for half_compute in [false, true] {
        let cfg = QuantConfig {
            mode: QuantMode::F16,
            half_compute,
            ..Default::default()
        };
        let (q, record) = quantize(&model, &cfg, None).unwrap();
        assert!(record.param_bytes[1] * 2 <= record.param_bytes[0] + 64);
        let halves = q
            .graph
            .initializers
            .values()
            .filter(|t| t.dtype() == burnish_model::DType::F16)
            .count();
        let casts = q.graph.op_histogram().get("Cast").copied().unwrap_or(0);
        if half_compute {
            // Inputs cast in, outputs cast out; the weights read as they are.
            assert_eq!(casts, 2, "{:?}", q.graph.op_histogram());
        } else {
            // Only the weights are half; each is read through its own Cast to float32.
            assert!(halves >= 12, "{halves} float16 weights");
            assert_eq!(casts, halves, "{:?}", q.graph.op_histogram());
        }
        let (err, top) = error_vs_reference(&q, "resnet_nchw");
        eprintln!(
            "f16 resnet_nchw (half compute {half_compute}): max abs error {err:.3e}, max |output| {top:.3e}"
        );
        assert!(err <= 1e-2 * top.max(1.0), "{err} vs {top}");
    }
}

#[test]
fn onnxruntime_quantized_qdq_model_lowers_to_int8_ops() {
    let path = common::fixtures().join("../quant/digits_cnn_qdq.onnx");
    let qdq = load_onnx(&path).unwrap();
    let mut lowered = qdq.clone();
    let rec = lower_qdq(&mut lowered).unwrap();
    assert_eq!((rec.qconv, rec.qmatmul), (2, 2), "{rec:?}");
    assert!(rec.shape_ops_on_codes >= 1, "{rec:?}");
    let ops = lowered.graph.op_histogram();
    assert!(
        !ops.contains_key("Conv") && !ops.contains_key("Gemm"),
        "{ops:?}"
    );
    let dir = common::fixtures().join("../quant");
    let inputs = read_tensors(dir.join("digits_cnn_qdq.inputs.npz")).unwrap();
    let want = read_tensors(dir.join("digits_cnn_qdq.outputs.npz")).unwrap();
    let as_written = run(&qdq, &inputs);
    let got = run(&lowered, &inputs);
    for (k, w) in &want {
        let d = diff(&got[k], &as_written[k]).unwrap();
        assert!(d.max_abs <= 0.05, "{k}: lowered vs QDQ {d:?}");
        let d = diff(&got[k], w).unwrap();
        eprintln!(
            "ORT-quantized digits: lowered vs onnxruntime max abs {:.3e}",
            d.max_abs
        );
        assert!(d.max_abs <= 0.1, "{k}: lowered vs onnxruntime {d:?}");
    }
    let acc = digits_accuracy(&lowered);
    eprintln!("ORT-quantized digits: accuracy on burnish int8 ops {acc:.4}");
    assert!(acc >= float_accuracy() - 0.01, "{acc}");
}

#[test]
fn optimizing_an_imported_qdq_model_keeps_its_int8_weights() {
    let path = common::fixtures().join("../quant/digits_cnn_qdq.onnx");
    let qdq = load_onnx(&path).unwrap();
    let (_, bytes_in) = qdq.graph.parameter_stats();
    let dir = common::temp_dir("qdq-optimize");
    let inputs = common::fixtures().join("../quant/digits_cnn_qdq.inputs.npz");
    for (file, extra) in [("plain.onnx", None), ("fused.onnx", Some("--keep-fused"))] {
        let out = dir.join(file);
        let mut args = vec![
            "optimize",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--inputs",
            inputs.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = common::burnish(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let model = load_onnx(&out).unwrap();
        let ops = model.graph.op_histogram();
        let (_, bytes_out) = model.graph.parameter_stats();
        assert!(
            bytes_out <= bytes_in,
            "{file}: {bytes_in} -> {bytes_out} bytes"
        );
        if extra.is_some() {
            assert_eq!(ops.get("burnish::QConv"), Some(&2), "{ops:?}");
            assert!(!ops.contains_key("Conv"), "{ops:?}");
        } else {
            assert!(
                ops.get("DequantizeLinear").is_some_and(|&n| n >= 4),
                "{ops:?}"
            );
        }
        assert!(digits_accuracy(&model) >= float_accuracy() - 0.01);
    }
}

#[test]
fn static_int8_resnet_folds_residual_adds_into_qconv() {
    // As `burnish optimize` and the pipeline do: BatchNormalization folded first.
    let mut model = load_onnx(fixture("resnet_nchw.onnx")).unwrap();
    burnish_optimizer::PassManager::new(Default::default())
        .unwrap()
        .run(&mut model)
        .unwrap();
    let calibration = Calibration::from_npz(fixture("resnet_nchw.inputs.npz")).unwrap();
    let cfg = QuantConfig {
        mode: QuantMode::StaticInt8,
        ..Default::default()
    };
    let (qdq, _) = quantize(&model, &cfg, Some(&calibration)).unwrap();
    let mut lowered = qdq.clone();
    let rec = lower_qdq(&mut lowered).unwrap();
    // Four residual blocks, the last one's sum quantized for the GlobalAveragePool after it.
    assert_eq!(rec.residual_adds, 4, "{rec:?}");
    let fused: Vec<_> = lowered
        .graph
        .nodes
        .iter()
        .filter(|n| n.op_type == "QConv" && n.inputs.len() == 12)
        .collect();
    assert_eq!(fused.len(), 4);
    assert_eq!(lowered.graph.op_histogram().get("Add"), None);
    // Same inputs through the QDQ graph (float ops on dequantized values, onnxruntime's
    // semantics) and through the int8 ops: a few output quantization steps apart at most.
    let (qdq_err, top) = error_vs_reference(&qdq, "resnet_nchw");
    let (int8_err, _) = error_vs_reference(&lowered, "resnet_nchw");
    eprintln!("static-int8 resnet_nchw: max abs error qdq {qdq_err:.3e}, int8 ops {int8_err:.3e}");
    assert!(
        int8_err <= 2.0 * qdq_err + 0.01 * top,
        "{int8_err} vs {qdq_err} (top {top})"
    );
    let inputs = read_tensors(fixture("resnet_nchw.inputs.npz")).unwrap();
    let (a, b) = (run(&qdq, &inputs), run(&lowered, &inputs));
    let d = diff(&b["logits"], &a["logits"]).unwrap();
    assert!(
        d.max_abs <= 0.05 * top.max(1.0),
        "int8 ops vs QDQ graph: {d:?}"
    );
}

#[test]
fn weight_bits_bound_the_int8_weight_codes_per_op_type() {
    let model = load_onnx(fixture("digits_cnn.onnx")).unwrap();
    let cal = Calibration::from_npz(fixture("digits_calibration.npz")).unwrap();
    // `6` narrows MatMul/Gemm weights only: the direct conv gains nothing from it.
    for (bits, conv_max, gemm_max) in [("8", 127, 127), ("7", 63, 63), ("6", 63, 31)] {
        let cfg = QuantConfig {
            mode: QuantMode::StaticInt8,
            weight_bits: bits.parse().unwrap(),
            ..Default::default()
        };
        let (qdq, record) = quantize(&model, &cfg, Some(&cal)).unwrap();
        for (weight, max) in [
            ("conv1.weight", conv_max),
            ("conv2.weight", conv_max),
            ("fc1.weight", gemm_max),
            ("fc2.weight", gemm_max),
        ] {
            let (_, codes) = qdq
                .graph
                .initializers
                .iter()
                .find(|(k, _)| k.starts_with(weight) && k.ends_with("_quantized"))
                .unwrap_or_else(|| panic!("{bits}: no quantized {weight}"));
            // Symmetric per-channel codes: each channel's largest weight lands on the limit.
            let top = codes.to_i64_vec().unwrap().iter().map(|c| c.abs()).max();
            assert_eq!(top, Some(max), "--weight-bits {bits}: {weight}");
        }
        let notes = record.notes.join(" ");
        assert_eq!(notes.contains("6-bit codes"), bits == "6", "{notes}");
        if bits == "6" {
            let mut lowered = qdq.clone();
            lower_qdq(&mut lowered).unwrap();
            assert!(digits_accuracy(&lowered) >= float_accuracy() - 0.01);
        }
    }
}
