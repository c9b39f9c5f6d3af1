//! Accuracy: `burnish eval` against onnxruntime's accuracy, the accuracy gate's honesty, and
//! `inspect --quant`. References: `tests/fixtures/models/digits_cnn.accuracy.json` (written by
//! `tests/fixtures/gen/gen_accuracy_ref.py` with onnxruntime) and closed-form MAC counts.

mod common;

use std::sync::Arc;

use burnish_accuracy::gate::{AccuracyBudget, DropKind, GateLimits, Sensitivity};
use burnish_accuracy::{GateOptions, candidates, gate_model};
use burnish_eval::{DataSpec, Dataset, EvalOptions, evaluate, load_dataset};
use burnish_model::{Buffer, Model, TensorData, load_onnx};

fn fixture(name: &str) -> std::path::PathBuf {
    common::fixtures().join(name)
}

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("digits_cnn.accuracy.json")).unwrap())
        .unwrap()
}

fn digits() -> (Model, Dataset) {
    let model = load_onnx(fixture("digits_cnn.onnx")).unwrap();
    let path = fixture("digits_test.npz");
    let data = load_dataset(
        &model,
        &DataSpec {
            data: &path,
            data_key: Some("x"),
            labels: None,
            labels_key: Some("y"),
        },
    )
    .unwrap();
    (model, data)
}

/// `burnish eval digits_cnn.onnx ARGS...`.
fn eval_digits(args: &[&str]) -> std::process::Output {
    let model = fixture("digits_cnn.onnx");
    let mut all = vec!["eval", model.to_str().unwrap()];
    all.extend(args);
    common::burnish(&all)
}

/// The JSON a successful command printed.
fn json_of(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn opts(batch: usize, top_k: usize) -> EvalOptions {
    EvalOptions {
        batch,
        top_k,
        threads: Some(1),
        output: None,
    }
}

#[test]
fn eval_cli_matches_onnxruntime_accuracy() {
    let want = reference();
    let data = fixture("digits_test.npz");
    let got = json_of(&eval_digits(&[
        "--data",
        data.to_str().unwrap(),
        "--data-key",
        "x",
        "--top-k",
        "3",
        "--json",
    ]));
    let e = &got["evaluation"];
    assert_eq!(e["samples"], want["samples"]);
    assert_eq!(e["correct_top1"], want["correct_top1"]);
    assert_eq!(e["correct_topk"], want["correct_top3"]);
    assert_eq!(e["k"], 3);
}

#[test]
fn eval_is_independent_of_the_batch_and_reads_npy_files() {
    let want = reference();
    let (model, data) = digits();
    for (batch, k) in [(1, 5), (7, 1), (450, 3)] {
        let (e, scores) = evaluate(&model, &data, &opts(batch, k)).unwrap();
        assert_eq!(
            e.correct_top1 as u64,
            want["correct_top1"].as_u64().unwrap()
        );
        assert_eq!(
            e.correct_topk as u64,
            want[format!("correct_top{k}")].as_u64().unwrap(),
            "batch {batch} k {k}"
        );
        assert_eq!((scores.rows(), scores.classes), (450, 10));
    }
    let dir = common::temp_dir("eval-npy");
    let x = dir.join("x.npy");
    let y = dir.join("y.npy");
    let labels = TensorData::from_i64(vec![450], data.labels.iter().map(|&l| l as i64).collect());
    std::fs::write(
        &x,
        burnish_model::npy::to_npy(&data.inputs["input"]).unwrap(),
    )
    .unwrap();
    std::fs::write(&y, burnish_model::npy::to_npy(&labels).unwrap()).unwrap();
    let got = json_of(&eval_digits(&[
        "--data",
        x.to_str().unwrap(),
        "--labels",
        y.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(got["evaluation"]["correct_top1"], want["correct_top1"]);
    assert_eq!(got["evaluation"]["correct_topk"], want["correct_top5"]);
}

#[test]
fn eval_errors_name_the_file_and_the_problem() {
    let data = fixture("digits_test.npz");
    let o = eval_digits(&["--data", data.to_str().unwrap(), "--data-key", "images"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("digits_test.npz") && err.contains("`images`"),
        "{err}"
    );
}

/// A stand-in quantizer: rounds the weights of every Conv/Gemm not kept in float to three
/// levels (-s, 0, s) per tensor, which costs digits_cnn well over 0.5% accuracy.
fn ternary(model: &Model, float: &[String]) -> Result<Model, String> {
    let mut m = model.clone();
    for node in &model.graph.nodes {
        if !matches!(node.op_type.as_str(), "Conv" | "Gemm") || float.contains(&node.name) {
            continue;
        }
        let name = node.input(1).ok_or("no weight")?;
        let w = m.graph.initializers[name]
            .as_f32()
            .ok_or("weight not f32")?;
        let s = w.iter().map(|v| v.abs()).sum::<f32>() / w.len() as f32;
        let q: Vec<f32> = w
            .iter()
            .map(|&v| {
                if v.abs() < 0.5 * s {
                    0.0
                } else {
                    s * v.signum()
                }
            })
            .collect();
        let shape = m.graph.initializers[name].shape.clone();
        m.graph.initializers.insert(
            name.to_string(),
            Arc::new(TensorData::new(shape, Buffer::F32(q)).map_err(|e| e.to_string())?),
        );
    }
    Ok(m)
}

fn gate_options(limits: GateLimits) -> GateOptions {
    GateOptions {
        budget: AccuracyBudget::parse("0.5%", DropKind::Abs).unwrap(),
        method: Sensitivity::LeaveOneOut,
        limits,
        eval: opts(128, 1),
    }
}

#[test]
fn gate_keeps_sensitive_nodes_float_and_reports_the_accuracy_it_reached() {
    let (model, data) = digits();
    let cands = candidates(&model, &data);
    assert_eq!(cands.len(), 4);
    assert_eq!(cands[1].macs, Some(16 * 4 * 4 * 8 * 9));
    let out = gate_model(
        &model,
        &data,
        &cands,
        &gate_options(GateLimits::default()),
        |f| ternary(&model, f),
    )
    .unwrap();
    let r = &out.record;
    let base = r.baseline_accuracy;
    assert!(
        base - r.full_quant_accuracy.unwrap() > 0.005,
        "the stand-in quantizer must exceed the budget for this test to mean anything"
    );
    assert!(!r.kept_float.is_empty(), "{r:?}");
    assert!(
        r.within_budget && base - r.accuracy <= 0.005 + 1e-12,
        "{r:?}"
    );
    // The returned model is what the record says: evaluated independently, same accuracy, and
    // exactly the kept nodes have their original weights.
    let (e, _) = evaluate(&out.model, &data, &opts(64, 1)).unwrap();
    assert_eq!(e.top1, r.accuracy);
    for node in model.graph.nodes.iter().filter(|n| n.input(1).is_some()) {
        if !matches!(node.op_type.as_str(), "Conv" | "Gemm") {
            continue;
        }
        let w = node.input(1).unwrap();
        let same = model.graph.initializers[w] == out.model.graph.initializers[w];
        assert_eq!(same, r.kept_float.contains(&node.name), "{}", node.name);
    }
}

#[test]
fn gate_out_of_trials_never_claims_the_budget() {
    let (model, data) = digits();
    let cands = candidates(&model, &data);
    let limits = GateLimits {
        max_trials: Some(1),
        time_limit: None,
    };
    let out = gate_model(&model, &data, &cands, &gate_options(limits), |f| {
        ternary(&model, f)
    })
    .unwrap();
    let r = &out.record;
    assert_eq!(r.trials.len(), 1);
    assert!(!r.within_budget);
    assert!(r.baseline_accuracy - r.accuracy > 0.005);
    assert!(r.kept_float.is_empty());
}

/// MACs of digits_cnn at batch 1: conv1 8x8x8 outputs x 9, conv2 16x4x4 x 72, fc1 32 x 256,
/// fc2 10 x 32.
const DIGITS_MACS: u64 = 8 * 64 * 9 + 16 * 16 * 72 + 32 * 256 + 10 * 32;

#[test]
fn inspect_quant_counts_float_macs_of_the_fp32_model() {
    let o = common::burnish(&[
        "inspect",
        fixture("digits_cnn.onnx").to_str().unwrap(),
        "--quant",
        "--json",
        "--dim",
        "batch=1",
    ]);
    let v = json_of(&o);
    let q = &v["quant"];
    assert_eq!(q["macs"]["float"], DIGITS_MACS);
    assert_eq!(q["int8_share"], 0.0);
    assert_eq!(q["quantize_boundaries"], 0);
    assert!(q["cpu"]["kernel"].is_string());
    assert_eq!(q["nodes"].as_array().unwrap().len(), 4);
}

#[test]
fn optimize_gate_record_is_honest_and_explains_the_speed() {
    let dir = common::temp_dir("optimize-gate");
    let out = dir.join("digits.int8.onnx");
    let o = common::burnish(&[
        "optimize",
        fixture("digits_cnn.onnx").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quantize",
        "static-int8",
        "--calibration",
        fixture("digits_calibration.npz").to_str().unwrap(),
        "--max-accuracy-drop",
        "0.5%",
        "--eval-data",
        fixture("digits_test.npz").to_str().unwrap(),
        "--eval-data-key",
        "x",
        "--profile",
        "--profile-runs",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("digits.int8.json")).unwrap())
            .unwrap_or_else(|e| panic!("{e}\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr)));
    let gate = &record["accuracy_gate"];
    let want = reference();
    let base = want["correct_top1"].as_f64().unwrap() / want["samples"].as_f64().unwrap();
    assert_eq!(gate["baseline_accuracy"].as_f64().unwrap(), base);
    let acc = gate["accuracy"].as_f64().unwrap();
    let within = gate["within_budget"].as_bool().unwrap();
    assert_eq!(within, base - acc <= 0.005 + 1e-12, "{gate}");
    assert_eq!(
        o.status.code(),
        Some(if within { 0 } else { 1 }),
        "{stdout}"
    );
    assert!(stdout.contains("accuracy gate") && stdout.contains("kept in float"));
    // The written model is the one the gate measured.
    let model = load_onnx(&out).unwrap();
    let (_, data) = digits();
    let (e, _) = evaluate(&model, &data, &opts(64, 1)).unwrap();
    assert!(
        (e.top1 - acc).abs() <= 1.0 / 450.0 + 1e-12,
        "{} vs {acc}",
        e.top1
    );
    let why = &record["why_not_faster"];
    assert!(
        why["inspection"]["int8_share"].as_f64().unwrap() > 0.5,
        "{why}"
    );
    // Every MAC is counted once, in int8 or in float (the int8 ops' packed weights too), at
    // the batch of the seeded inputs (10 logits per sample).
    let batch = record["fidelity"][0]["metrics"]["count"].as_u64().unwrap() / 10;
    let macs = &why["inspection"]["macs"];
    let counted = macs["int8"].as_u64().unwrap_or(0) + macs["float"].as_u64().unwrap_or(0);
    assert_eq!(counted, batch * DIGITS_MACS, "{why}");
    assert!(
        why["profile"]["ops"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
    );
}
