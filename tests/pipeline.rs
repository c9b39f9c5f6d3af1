//! `burnish pipeline` end to end with very short runs: the output folder (report, results
//! JSON, variant models), escaping of hostile model names, re-rendering from the saved JSON,
//! accuracy against onnxruntime's, and clean failures.

mod common;

use std::path::Path;

use serde_json::Value;

fn fixture(name: &str) -> String {
    common::fixtures().join(name).display().to_string()
}

/// Every file under `dir`, relative and sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Short runs: 60 ms per run, two batch sizes and concurrency levels, one thread.
fn pipeline(model: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "pipeline",
        model,
        "--out",
        out.to_str().unwrap(),
        "--run-time",
        "60ms",
        "--batch",
        "1,4",
        "--concurrency",
        "1,2",
        "--threads",
        "1",
    ];
    args.extend_from_slice(extra);
    common::burnish(&args)
}

#[test]
fn pipeline_on_mlp_writes_report_results_and_models() {
    const EVIL: &str = "mlp <script>alert(1) \"q\" 'a' <b>";
    let dir = common::temp_dir("pipeline-mlp");
    let model = dir.join(format!("{EVIL}.onnx"));
    std::fs::copy(fixture("mlp.onnx"), &model).unwrap();
    let out = dir.join("report");
    let o = pipeline(
        model.to_str().unwrap(),
        &out,
        &[
            "--inputs",
            &fixture("mlp.inputs.npz"),
            "--slo-p99",
            "50ms",
            "--variants",
            "optimized",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains(&format!("report: {}", out.join("index.html").display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("optimized (candidate) vs baseline"),
        "{stdout}"
    );

    let files = tree(&out);
    for f in ["index.html", "results.json", "models/optimized.onnx"] {
        assert!(files.contains(&f.to_string()), "{f} missing: {files:?}");
    }
    for chart in [
        "speedup",
        "latency-cdf",
        "latency-percentiles",
        "offline-batch",
        "concurrency",
        "server-qps",
        "op-breakdown",
    ] {
        assert!(
            files.contains(&format!("charts/{chart}.svg")),
            "chart {chart} missing: {files:?}"
        );
    }
    assert!(files.iter().any(|f| f.starts_with("run-")), "{files:?}");
    assert!(files.iter().all(|f| !f.contains(".tmp")), "{files:?}");

    for f in files
        .iter()
        .filter(|f| f.ends_with(".html") || f.ends_with(".svg"))
    {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!text.contains("<script"), "{f} holds a raw <script");
        assert!(!text.contains("\"q\""), "{f} holds an unescaped quote");
        assert!(
            !text.contains("<b>"),
            "{f} holds raw markup from the model name"
        );
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("&lt;script&gt;"),
        "the model name is not shown"
    );

    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let variants = results["variants"].as_array().unwrap();
    let labels: Vec<&str> = variants
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["baseline", "optimized"]);
    assert!(variants[0]["fidelity"].is_null());
    let max_abs = variants[1]["fidelity"]["max_abs"].as_f64().unwrap();
    assert!(max_abs <= 1e-5, "exact passes changed outputs by {max_abs}");
    let file = &results["results"][0];
    assert_eq!(file["comparisons"].as_array().unwrap().len(), 1);
    assert_eq!(file["max_qps"].as_array().unwrap().len(), 2);
    let runs = file["runs"].as_array().unwrap();
    for (scenario, per_variant) in [("single_stream", 1), ("offline", 2), ("concurrency", 2)] {
        for v in ["baseline", "optimized"] {
            let n = runs
                .iter()
                .filter(|r| r["target"] == v && r["scenario"] == scenario)
                .count();
            assert!(n >= per_variant, "{v} has {n} {scenario} runs");
        }
    }
    assert_eq!(results["profiles"].as_array().unwrap().len(), 2);
    assert!(results["optimization"]["passes"].as_array().unwrap().len() > 1);

    let again = dir.join("again");
    let r = common::burnish(&[
        "report",
        out.join("results.json").to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in tree(&again) {
        assert_eq!(
            std::fs::read(again.join(&f)).unwrap(),
            std::fs::read(out.join(&f)).unwrap(),
            "{f} differs when re-rendered from results.json"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pipeline_accuracy_matches_onnxruntime() {
    let dir = common::temp_dir("pipeline-digits");
    let out = dir.join("report");
    let o = pipeline(
        &fixture("digits_cnn.onnx"),
        &out,
        &[
            "--eval-data",
            &fixture("digits_test.npz"),
            "--variants",
            "optimized",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("digits_cnn.json")).unwrap(),
    )
    .unwrap();
    let ort = meta["test_accuracy"].as_f64().unwrap();
    let samples = meta["test_samples"].as_f64().unwrap();
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    for v in results["variants"].as_array().unwrap() {
        let acc = v["accuracy"].as_f64().unwrap();
        assert!(
            (acc - ort).abs() <= 1.0 / samples,
            "{}: accuracy {acc}, onnxruntime {ort}",
            v["label"]
        );
    }
    // One evaluator: `burnish eval` on the same model and data gives the baseline's number.
    let e = common::burnish(&[
        "eval",
        &fixture("digits_cnn.onnx"),
        "--data",
        &fixture("digits_test.npz"),
        "--json",
    ]);
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    let eval: Value = serde_json::from_slice(&e.stdout).unwrap();
    let baseline = &results["variants"][0];
    assert_eq!(baseline["label"], "baseline");
    assert_eq!(baseline["accuracy"], eval["evaluation"]["top1"]);
    assert!(
        out.join("charts/pareto.svg").is_file(),
        "accuracy vs latency chart missing"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pipeline_fails_cleanly_on_a_missing_model() {
    let dir = common::temp_dir("pipeline-missing");
    let out = dir.join("report");
    let missing = dir.join("no-such-model.onnx");
    let o = pipeline(missing.to_str().unwrap(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("no-such-model.onnx"), "{stderr}");
    assert!(!out.exists(), "output written for a failed pipeline");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pipeline_rejects_a_non_onnx_file() {
    let dir = common::temp_dir("pipeline-garbage");
    let model = dir.join("garbage.onnx");
    std::fs::write(&model, b"not a protobuf at all").unwrap();
    let out = dir.join("report");
    let o = pipeline(model.to_str().unwrap(), &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("garbage.onnx"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Real data drives a model whose input width is unnamed, end to end, with the default
/// variants: the data sets the shapes, feeds every scenario (batch 4 cycles its 3 samples)
/// and the fidelity check, and calibrates int8; no run of the quick profile is INVALID.
#[test]
fn pipeline_on_real_data_with_an_unnamed_dim() {
    let dir = common::temp_dir("pipeline-anywidth");
    let model = fixture("anywidth_cnn.onnx");
    let data = fixture("anywidth_cnn.inputs.npz");
    let out = dir.join("report");
    let short = [
        "--out",
        out.to_str().unwrap(),
        "--run-time",
        "40ms",
        "--batch",
        "1,4",
        "--concurrency",
        "1,2",
        "--slo-p99",
        "20ms",
    ];

    let mut args = vec!["pipeline", model.as_str()];
    args.extend_from_slice(&short);
    let o = common::burnish(&args);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for part in ["unnamed", "`x`", "--shape x=1x3x16xN", "--inputs"] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert!(!out.exists(), "output written for a failed pipeline");

    args.extend_from_slice(&["--inputs", &data]);
    let o = common::burnish(&args);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!stdout.contains("INVALID"), "{stdout}");

    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let variants = results["variants"].as_array().unwrap();
    let labels: Vec<&str> = variants
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    let int8 = burnish_kernels::Kernel::best().has_dot_product();
    let expected: &[&str] = if int8 {
        &["baseline", "optimized", "int8"]
    } else {
        &["baseline", "optimized"]
    };
    assert_eq!(
        labels, expected,
        "variants on a CPU with int8 dot products: {int8}"
    );
    for v in &variants[1..] {
        let f = &v["fidelity"];
        let cosine = f["cosine"].as_f64().unwrap();
        let top1 = f["top1_agreement"].as_f64().unwrap();
        let max_abs = f["max_abs"].as_f64().unwrap();
        assert!(f["mean_abs"].as_f64().unwrap() <= max_abs);
        if v["label"] == "optimized" {
            assert!(max_abs <= 1e-5, "exact passes changed outputs by {max_abs}");
            assert_eq!(top1, 1.0);
        } else {
            // The int8 model calibrated on these very samples follows the float one closely.
            assert!(cosine > 0.99 && max_abs < 0.1, "int8 fidelity {f}");
        }
    }

    let notes: Vec<&str> = results["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let mentions = |text: &str| notes.iter().any(|n| n.contains(text));
    assert!(mentions("3 sample(s) of"), "{notes:?}");
    assert_eq!(
        mentions("static int8 calibrated on 3 sample(s)"),
        int8,
        "{notes:?}"
    );
    if !int8 {
        assert!(mentions("int8 is not measured by default"), "{notes:?}");
    }

    let file = &results["results"][0];
    let runs = file["runs"].as_array().unwrap();
    for v in expected {
        for (scenario, batch) in [("single_stream", 1), ("offline", 4), ("concurrency", 1)] {
            assert!(
                runs.iter().any(|r| r["target"] == *v
                    && r["scenario"] == scenario
                    && r["settings"]["batch"] == batch),
                "{v}: no {scenario} run at batch {batch}"
            );
        }
    }
    let max_qps = file["max_qps"].as_array().unwrap();
    assert_eq!(max_qps.len(), expected.len());
    let statuses: Vec<&str> = runs
        .iter()
        .chain(max_qps.iter().map(|m| &m["validity_run"]))
        .map(|r| r["validity"]["status"].as_str().unwrap())
        .collect();
    for status in &statuses {
        assert!(["VALID", "QUICK"].contains(status), "a run is {status}");
    }
    assert_eq!(
        file["comparisons"].as_array().unwrap().len(),
        expected.len() - 1
    );
    assert_eq!(
        results["profiles"].as_array().unwrap().len(),
        expected.len()
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("follows"),
        "the fidelity verdict is not shown"
    );
    let quick = statuses.contains(&"QUICK");
    assert_eq!(
        index.contains(">QUICK<"),
        quick,
        "QUICK runs are not labelled"
    );
    std::fs::remove_dir_all(&dir).ok();
}
