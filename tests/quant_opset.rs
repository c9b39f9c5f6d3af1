//! Models below opset 13 (`tests/fixtures/quant_opset`, from `gen_quant_opset.py`): the raised
//! model computes what onnxruntime computes on the original; static int8 raises the opset to
//! 13 and keeps per-channel weights; the committed QDQ exports (checked by onnx.checker and
//! loaded by onnxruntime at generation) run in burnish as in onnxruntime.

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_model::compare::diff;
use burnish_model::{Model, TensorData, check, load_onnx, read_tensors};
use burnish_optimizer::convert_opset;
use burnish_quant::{Calibration, QuantConfig, lower_qdq, quantize};
use burnish_runtime::{Session, SessionOptions};

const MODELS: [(&str, i64); 2] = [("cnn_op11", 11), ("attn_op12", 12)];

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/quant_opset")
        .join(name)
}

/// Runs the graph as written: QDQ nodes in float, int8 ops only after an explicit `lower_qdq`
/// (a default session would lower the QDQ patterns itself).
fn run(model: &Model, inputs: &BTreeMap<String, TensorData>) -> BTreeMap<String, TensorData> {
    let options = SessionOptions {
        qdq_int8: false,
        ..SessionOptions::threads(Some(1))
    };
    Session::new(model, options).unwrap().run(inputs).unwrap()
}

/// Largest absolute difference over every output in `want`.
fn max_abs(got: &BTreeMap<String, TensorData>, want: &BTreeMap<String, TensorData>) -> f64 {
    want.iter()
        .map(|(k, w)| diff(&got[k], w).unwrap().max_abs)
        .fold(0.0, f64::max)
}

fn per_axis_dequantize(m: &Model) -> usize {
    m.graph
        .nodes
        .iter()
        .filter(|n| n.op_type == "DequantizeLinear" && n.attrs.contains_key("axis"))
        .count()
}

#[test]
fn raised_models_compute_what_onnxruntime_computes_on_the_original() {
    for (name, opset) in MODELS {
        let model = load_onnx(file(&format!("{name}.onnx"))).unwrap();
        assert_eq!(model.opset(), opset);
        let inputs = read_tensors(file(&format!("{name}.inputs.npz"))).unwrap();
        let want = read_tensors(file(&format!("{name}.outputs.npz"))).unwrap();
        for to in [13, 18, 21] {
            let mut raised = model.clone();
            let rec = convert_opset(&mut raised, to).unwrap();
            assert!(!rec.rewritten.is_empty(), "{name}: some op changed form");
            assert_eq!(raised.opset(), to);
            assert_eq!(check::check(&raised), vec![], "{name} at {to}");
            let err = max_abs(&run(&raised, &inputs), &want);
            assert!(
                err <= 1e-5,
                "{name} at opset {to}: max abs {err} vs onnxruntime"
            );
        }
    }
}

#[test]
fn static_int8_below_opset_13_raises_it_with_per_channel_weights() {
    for (name, opset) in MODELS {
        let model = load_onnx(file(&format!("{name}.onnx"))).unwrap();
        let cal = Calibration::from_npz(file(&format!("{name}.calibration.npz"))).unwrap();
        let (q, rec) = quantize(&model, &QuantConfig::default(), Some(&cal)).unwrap();
        assert_eq!(q.opset(), 13, "{name}");
        assert!(rec.per_channel, "{name}: {:?}", rec.notes);
        let raised = format!("opset raised from {opset} to 13");
        assert!(
            rec.notes.iter().any(|n| n.contains(&raised)),
            "{:?}",
            rec.notes
        );
        assert_eq!(check::check(&q), vec![], "{name}");
        let weights = rec
            .nodes
            .iter()
            .filter(|n| {
                n.weights
                    .as_deref()
                    .is_some_and(|w| w.contains("per channel"))
            })
            .count();
        assert!(weights > 0 && per_axis_dequantize(&q) >= weights, "{name}");
        // As close to the float outputs (onnxruntime) as the committed export that
        // onnxruntime ran at generation time, within a margin.
        let inputs = read_tensors(file(&format!("{name}.inputs.npz"))).unwrap();
        let float = read_tensors(file(&format!("{name}.outputs.npz"))).unwrap();
        let committed = read_tensors(file(&format!("{name}.qdq.outputs.npz"))).unwrap();
        let bound = 1.5 * max_abs(&committed, &float) + 1e-4;
        let err = max_abs(&run(&q, &inputs), &float);
        assert!(
            err <= bound,
            "{name}: max abs {err} vs float, bound {bound}"
        );
    }
}

#[test]
fn per_tensor_weights_keep_an_opset_below_13_valid() {
    let model = load_onnx(file("cnn_op11.onnx")).unwrap();
    let cal = Calibration::from_npz(file("cnn_op11.calibration.npz")).unwrap();
    let cfg = QuantConfig {
        per_channel: false,
        ..Default::default()
    };
    let (q, rec) = quantize(&model, &cfg, Some(&cal)).unwrap();
    assert_eq!(q.opset(), 11);
    assert!(!rec.per_channel);
    assert_eq!(per_axis_dequantize(&q), 0);
    assert_eq!(check::check(&q), vec![]);
}

#[test]
fn committed_exports_run_in_burnish_as_in_onnxruntime() {
    for (name, _) in MODELS {
        let qdq = load_onnx(file(&format!("{name}.qdq.onnx"))).unwrap();
        assert!(qdq.opset() >= 13, "{name}");
        assert!(per_axis_dequantize(&qdq) > 0, "{name}: per-channel weights");
        assert_eq!(check::check(&qdq), vec![], "{name}");
        let inputs = read_tensors(file(&format!("{name}.inputs.npz"))).unwrap();
        let want = read_tensors(file(&format!("{name}.qdq.outputs.npz"))).unwrap();
        let float = read_tensors(file(&format!("{name}.outputs.npz"))).unwrap();
        // burnish and onnxruntime may round a value just at a code boundary differently;
        // the quantization error itself (QDQ vs float) is the scale of comparison.
        let step = max_abs(&want, &float);
        let err = max_abs(&run(&qdq, &inputs), &want);
        assert!(
            err <= 0.05 * step + 1e-5,
            "{name}: QDQ graph max abs {err} (quantization error {step})"
        );
        let mut lowered = qdq.clone();
        lower_qdq(&mut lowered).unwrap();
        // burnish's int8 kernels requantize each op's output themselves, so a code can flip
        // against onnxruntime's float-then-quantize; what must hold is that they stay as close
        // to the float model as onnxruntime's run of the same file.
        let got = run(&lowered, &inputs);
        let to_float = max_abs(&got, &float);
        assert!(
            to_float <= 1.5 * step + 1e-5,
            "{name}: int8 ops max abs {to_float} vs float (onnxruntime's QDQ run: {step})"
        );
        let to_ort = max_abs(&got, &want);
        assert!(
            to_ort <= 1.5 * step + 1e-5,
            "{name}: int8 ops max abs {to_ort} vs onnxruntime's QDQ run (its error {step})"
        );
    }
}
