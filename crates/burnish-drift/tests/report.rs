//! The full report: JSON round trip, schema check, rendering.

mod common;
use common::Draws;

use burnish_drift::{
    ClipInput, DriftAnalysis, DriftError, DriftReport, DriftSettings, InputSpec, Layout,
    OverallStatus, SCHEMA_VERSION, Sample,
};

fn full_report() -> DriftReport {
    let mut rng = common::Rng::new(21);
    let img_ref = rng.normals(256 * 3 * 8 * 8, 0.0, 1.0);
    let img_cur = rng.normals(256 * 3 * 8 * 8, 0.0, 1.0);
    let tab_ref = rng.normals(500 * 2, 0.0, 1.0);
    let tab_cur = rng.normals(500 * 2, 2.0, 1.0);
    let out_ref: Vec<f32> = (0..500 * 3)
        .map(|i| if i % 3 == 0 { 1.0 } else { 0.0 })
        .collect();
    let out_cur: Vec<f32> = (0..500 * 3)
        .map(|i| if i % 3 == 1 { 1.0 } else { 0.0 })
        .collect();
    let act_ref = rng.normals(10_000, 0.0, 1.0);
    let act_cur = rng.normals(10_000, 0.0, 2.0);

    let mut a = DriftAnalysis::new(DriftSettings::default()).unwrap();
    let shape = [256, 3, 8, 8];
    a.add_input(
        "image",
        &Sample::new(&img_ref, &shape).unwrap(),
        &Sample::new(&img_cur, &shape).unwrap(),
        InputSpec {
            layout: Layout::SampleMeans,
            ..InputSpec::default()
        },
    )
    .unwrap();
    a.add_input(
        "tab",
        &Sample::new(&tab_ref, &[500, 2]).unwrap(),
        &Sample::new(&tab_cur, &[500, 2]).unwrap(),
        InputSpec::default(),
    )
    .unwrap();
    a.set_predictions(
        &Sample::new(&out_ref, &[500, 3]).unwrap(),
        &Sample::new(&out_cur, &[500, 3]).unwrap(),
    )
    .unwrap();
    a.add_clip_rates(&[ClipInput {
        name: "relu1",
        min: -2.5,
        max: 2.5,
        reference: &act_ref,
        current: &act_cur,
    }])
    .unwrap();
    a.finish()
}

#[test]
fn verdict_collects_every_signal() {
    let r = full_report();
    assert_eq!(r.schema_version, SCHEMA_VERSION);
    assert_eq!(r.inputs.len(), 2);
    assert_eq!(r.features.len(), 5);
    assert_eq!(
        r.features[0].reference.values, 256,
        "one mean per image and channel"
    );
    let v = &r.verdict;
    assert_eq!(v.status, OverallStatus::Drift);
    assert_eq!(v.drifted_features, ["tab[0]", "tab[1]"]);
    assert!(v.prediction_drift);
    assert_eq!(v.stale_calibration, ["relu1"]);
    assert_eq!(v.reasons.len(), 2, "{:?}", v.reasons); // 2 of 5 < 50%: predictions + clip
}

#[test]
fn json_round_trip_and_schema_check() {
    let r = full_report();
    let json = r.to_json().unwrap();
    assert_eq!(DriftReport::from_json(&json).unwrap(), r);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["features"][3]["test"]["test"], "ks");
    assert_eq!(value["verdict"]["status"], "drift");
    let newer = json.replacen(
        &format!("\"schema_version\": {SCHEMA_VERSION}"),
        "\"schema_version\": 99",
        1,
    );
    assert!(matches!(
        DriftReport::from_json(&newer),
        Err(DriftError::SchemaVersion { found: 99, .. })
    ));
}

#[test]
fn table_has_every_section() {
    let text = full_report().render_table();
    for needle in [
        "image[ch 0]",
        "tab[1]",
        "DRIFT",
        "Top-1 predictions over 3 classes",
        "relu1",
        "STALE",
        "Verdict: DRIFT",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn partial_settings_file_fills_defaults() {
    let s: DriftSettings =
        serde_json::from_str(r#"{"psi_bins": 20, "thresholds": {"p_value": 0.01}}"#).unwrap();
    assert_eq!((s.psi_bins, s.thresholds.p_value), (20, 0.01));
    assert_eq!(s.thresholds.psi_significant, 0.25);
    assert_eq!(
        s.max_values_per_feature,
        DriftSettings::default().max_values_per_feature
    );
}
