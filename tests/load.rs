//! `bench`, `compare`, `report` and `drift` through the real binary.

mod common;

fn path(name: &str) -> String {
    common::fixtures().join(name).display().to_string()
}

#[test]
fn bench_then_regression_gate_then_report() {
    let dir = common::temp_dir("bench");
    let results = dir.join("mlp.json");
    let o = common::burnish(&[
        "bench",
        &path("mlp.onnx"),
        "--scenario",
        "single-stream",
        "--threads",
        "1",
        "-o",
        results.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let run = &v["runs"][0];
    assert!(v["schema_version"].as_u64().is_some());
    assert!(
        run["cold_start"]["model_load_ms"].as_f64().unwrap() > 0.0,
        "{run}"
    );
    assert!(
        v["environment"]["build"]["model_sha256"]
            .as_str()
            .unwrap()
            .len()
            == 64,
        "{}",
        v["environment"]
    );

    // The same model against its own saved run: not a regression beyond a 50% threshold.
    let o = common::burnish(&[
        "compare",
        "--baseline",
        results.to_str().unwrap(),
        &path("mlp.onnx"),
        "--fail-on-regression",
        "50%",
        "--threads",
        "1",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let gate: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        gate["regressions"][0]["status"], "ok",
        "{}",
        gate["regressions"]
    );

    let report = dir.join("report");
    let o = common::burnish(&[
        "report",
        results.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("<svg"), "the report has charts");
}

#[test]
fn drift_flags_a_shift_and_not_a_copy() {
    let dir = common::temp_dir("drift");
    let calib = path("digits_calibration.npz");
    let data = burnish_model::read_tensors(&calib).unwrap();
    let (name, x) = data.iter().next().unwrap();
    let shifted: Vec<f32> = x.as_f32().unwrap().iter().map(|v| v + 0.5).collect();
    let shifted = burnish_model::TensorData::from_f32(x.shape.clone(), shifted);
    let cur = dir.join("cur.npz");
    burnish_model::write_npz(&cur, [(name.as_str(), &shifted)]).unwrap();
    let run = |current: &str| {
        let o = common::burnish(&[
            "drift",
            "--reference",
            &calib,
            "--current",
            current,
            "--json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    assert_eq!(run(&calib)["verdict"]["status"], "no_drift");
    assert_eq!(run(cur.to_str().unwrap())["verdict"]["status"], "drift");
}
