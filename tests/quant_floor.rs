//! The fidelity floor of `burnish optimize --quantize` and its automatic float fallback, end to
//! end: the quantized model against the float one on the calibration samples.

mod common;

/// A quantization that clips a fifth of every activation range (`percentile:80`) keeps the
/// digits' classes but not their logits: the floor (cosine 0.99 against the float model on the
/// calibration samples) fails the command unless `--allow-fidelity-loss` accepts it.
#[test]
fn fidelity_floor_fails_a_lossy_quantization_unless_allowed() {
    let dir = common::temp_dir("quant-floor");
    for allow in [false, true] {
        let out = dir.join(format!("digits.{allow}.onnx"));
        let extra: &[&str] = if allow {
            &["--allow-fidelity-loss", "--no-float-fallback"]
        } else {
            &["--no-float-fallback"]
        };
        let o = common::quantize_digits(&out, "percentile:80", extra);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(if allow { 0 } else { 1 }), "{stderr}");
        let verdict = if allow { "warning:" } else { "error:" };
        assert!(
            stderr.contains(verdict)
                && stderr.contains("fidelity floor")
                && stderr.contains("`logits`"),
            "{stderr}"
        );
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap())
                .unwrap();
        let floor = &record["fidelity_floor"];
        assert_eq!(floor["samples"], 8, "{floor}");
        assert_eq!(floor["outputs"][0]["follows"], false, "{floor}");
        assert!(floor["outputs"][0]["metrics"]["cosine"].as_f64().unwrap() < 0.99);
    }
    // The default calibration keeps the floor.
    let out = dir.join("digits.minmax.onnx");
    let o = common::quantize_digits(&out, "minmax", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(record["fidelity_floor"]["outputs"][0]["follows"], true);
}

/// The floor's automatic float fallback, end to end: `optimize` keeps the one node that breaks
/// the floor in float, says so, records it in `OUT.json` and succeeds; with
/// `--no-float-fallback` the same quantization fails the floor.
#[test]
fn the_float_fallback_keeps_the_breaking_node_float_unless_disabled() {
    let dir = common::temp_dir("quant-fallback");
    for disabled in [false, true] {
        let out = dir.join(format!("fallback.{disabled}.onnx"));
        let extra: &[&str] = if disabled {
            &["--no-float-fallback"]
        } else {
            &[]
        };
        let o = common::quantize_static(
            "../quant_fallback/model.onnx",
            "../quant_fallback/calibration.npz",
            &out,
            extra,
        );
        let (stdout, stderr) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(
            o.status.code(),
            Some(if disabled { 1 } else { 0 }),
            "{stderr}"
        );
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.with_extension("json")).unwrap())
                .unwrap();
        if disabled {
            assert!(record["float_fallback"].is_null(), "{record}");
            assert!(stderr.contains("fidelity floor"), "{stderr}");
        } else {
            assert!(stdout.contains("kept in float: b"), "{stdout}");
            assert_eq!(
                record["float_fallback"]["kept_float"],
                serde_json::json!(["b"])
            );
            assert_eq!(record["fidelity_floor"]["outputs"][0]["follows"], true);
        }
    }
}
