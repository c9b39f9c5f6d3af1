//! `burnish drift --model` on a static-int8 (QDQ) model: clip rates of every quantized
//! activation against onnxruntime's saturation counts (`tests/fixtures/drift/expected.json`,
//! written by `tests/fixtures/gen/gen_drift_qdq.py`) on data of known shift.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn drift_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drift")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(drift_dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// Runs `burnish drift` with the QDQ model and returns the JSON report.
fn drift_report(reference: &str, current: &str, tag: &str) -> Value {
    let dir = common::temp_dir(tag);
    let out = dir.join("drift.json");
    let d = drift_dir();
    let arg = |f: &str| d.join(f).to_string_lossy().into_owned();
    let o = common::burnish(&[
        "drift",
        "--reference",
        &arg(reference),
        "--current",
        &arg(current),
        "--model",
        &arg("mlp_qdq.onnx"),
        "--json",
        "-o",
        out.to_str().expect("utf-8 path"),
    ]);
    assert!(
        o.status.success(),
        "burnish drift failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("report written");
    let _ = std::fs::remove_dir_all(&dir);
    serde_json::from_str(&text).expect("report parses")
}

fn count(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("`{key}` missing in {v}"))
}

/// The default staleness rule (`ClipThresholds`: +1 point and 2x on one side) applied to
/// onnxruntime's counts.
fn stale_by_rule(e: &Value) -> bool {
    let (rn, cn) = (
        count(e, "reference_values") as f64,
        count(e, "current_values") as f64,
    );
    ["below", "above"].iter().any(|side| {
        let r = count(e, &format!("reference_{side}")) as f64 / rn;
        let c = count(e, &format!("current_{side}")) as f64 / cn;
        c - r > 0.01 && c > 2.0 * r
    })
}

#[test]
fn clip_rates_match_onnxruntime_on_shifted_data() {
    let report = drift_report("reference.npz", "current.npz", "drift-qdq");
    let rows = report["clip_rates"].as_array().expect("clip_rates array");
    let expected = expected();
    let acts = expected["activations"].as_array().expect("activations");
    assert_eq!(rows.len(), acts.len(), "one row per quantized activation");
    for e in acts {
        let name = e["tensor"].as_str().expect("tensor name");
        let row = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no clip row for `{name}`"));
        for side in ["reference", "current"] {
            assert_eq!(
                count(row, &format!("{side}_values")),
                count(e, &format!("{side}_values")),
                "{name} {side} values"
            );
            for end in ["below", "above"] {
                let key = format!("{side}_{end}");
                let (got, want) = (count(row, &key), count(e, &key));
                // Activations come from our interpreter vs onnxruntime: float sums may differ in
                // the last bits, which moves a value across a rounding boundary only rarely.
                assert!(
                    (got - want).abs() <= 2,
                    "{name} {key}: burnish {got}, onnxruntime {want}"
                );
            }
        }
        assert_eq!(
            row["stale"].as_bool(),
            Some(stale_by_rule(e)),
            "{name} staleness"
        );
        let (min, max) = (row["min"].as_f64().unwrap(), row["max"].as_f64().unwrap());
        assert!(
            (min - e["min"].as_f64().unwrap()).abs() < 1e-5,
            "{name} min"
        );
        assert!(
            (max - e["max"].as_f64().unwrap()).abs() < 1e-5,
            "{name} max"
        );
    }

    // The model input: its clip rate on the shifted data against the closed form
    // P(N(mu, 1) outside the range), within four standard errors.
    let x = acts.iter().find(|a| a["tensor"] == "x").expect("input row");
    let row = rows.iter().find(|r| r["name"] == "x").expect("x row");
    let p = x["current_closed_form_rate"].as_f64().unwrap();
    let n = count(row, "current_values") as f64;
    let rate = row["current_rate"].as_f64().unwrap();
    assert!(
        (rate - p).abs() < 4.0 * (p * (1.0 - p) / n).sqrt(),
        "input clip rate {rate} vs closed form {p}"
    );
    assert!(
        row["stale"].as_bool().unwrap(),
        "the shifted input is stale"
    );
    let stale: Vec<&str> = report["verdict"]["stale_calibration"]
        .as_array()
        .expect("stale list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(stale.contains(&"x"), "verdict names the input: {stale:?}");
    assert_eq!(report["verdict"]["status"], "drift");
}

#[test]
fn calibration_data_against_itself_is_not_stale() {
    let report = drift_report("reference.npz", "reference.npz", "drift-qdq-same");
    let rows = report["clip_rates"].as_array().expect("clip_rates array");
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row["reference_clipped"], row["current_clipped"]);
        assert_eq!(row["stale"], false, "{row}");
    }
    // MinMax calibration covers its own data: the input never saturates.
    let x = rows.iter().find(|r| r["name"] == "x").expect("x row");
    assert_eq!(count(x, "reference_clipped"), 0);
}
