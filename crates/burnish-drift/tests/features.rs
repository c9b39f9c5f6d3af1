//! Feature extraction by shape, categorical inputs and input errors.

use burnish_drift::{
    DriftAnalysis, DriftError, DriftSettings, DriftTest, FeatureStatus, InputSpec, Layout,
    OverallStatus, Sample, ValueKind, extract_features,
};

fn extract(data: &[f32], shape: &[usize], spec: InputSpec) -> Vec<(String, Vec<f32>)> {
    let s = Sample::new(data, shape).unwrap();
    extract_features("x", &s, &spec, 1_000_000, 0)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.values))
        .collect()
}

fn iota(n: usize) -> Vec<f32> {
    (0..n).map(|v| v as f32).collect()
}

#[test]
fn layouts_by_rank() {
    let d = iota(24);
    assert_eq!(
        extract(&d[..3], &[3], InputSpec::default()),
        [("x".into(), vec![0.0, 1.0, 2.0])]
    );
    let cols = extract(&d[..6], &[3, 2], InputSpec::default());
    assert_eq!(cols[1], ("x[1]".into(), vec![1.0, 3.0, 5.0]));
    // [N=2, T=3, F=4]: feature 1 pools positions 1, 5, 9, 13, 17, 21.
    let seq = extract(&d, &[2, 3, 4], InputSpec::default());
    assert_eq!(seq.len(), 4);
    assert_eq!(seq[1].1, vec![1.0, 5.0, 9.0, 13.0, 17.0, 21.0]);
    // [N=2, C=3, H=2, W=2]: channel 1 pools 4..8 and 16..20.
    let img = extract(&d, &[2, 3, 2, 2], InputSpec::default());
    assert_eq!(
        img[1],
        (
            "x[ch 1]".into(),
            vec![4.0, 5.0, 6.0, 7.0, 16.0, 17.0, 18.0, 19.0]
        )
    );
}

#[test]
fn sample_means_and_pooled() {
    let d = iota(24);
    let means = InputSpec {
        layout: Layout::SampleMeans,
        ..InputSpec::default()
    };
    let img = extract(&d, &[2, 3, 2, 2], means);
    assert_eq!(img[1].1, vec![5.5, 17.5]);
    let seq = extract(&d, &[2, 3, 4], means);
    assert_eq!(seq[0].1, vec![4.0, 16.0]);
    let pooled = InputSpec {
        layout: Layout::Pooled,
        ..InputSpec::default()
    };
    assert_eq!(extract(&d, &[2, 3, 4], pooled), [("x".into(), d.clone())]);
}

#[test]
fn shape_and_value_errors() {
    let d = iota(6);
    assert!(matches!(
        Sample::new(&d, &[4, 2]),
        Err(DriftError::ShapeMismatch {
            expected: 8,
            actual: 6,
            ..
        })
    ));
    assert!(matches!(
        Sample::new(&[], &[0, 3]),
        Err(DriftError::Empty { .. })
    ));
    assert!(matches!(Sample::new(&d[..1], &[]), Err(DriftError::Scalar)));
    let nan = [1.0, f32::NAN, 3.0];
    let err = extract_features(
        "x",
        &Sample::new(&nan, &[3]).unwrap(),
        &InputSpec::default(),
        10,
        0,
    )
    .unwrap_err();
    assert!(matches!(err, DriftError::NonFinite { index: 1, .. }));
    assert!(err.to_string().contains("`x`"), "{err}");
    let frac = [1.0, 2.5];
    let err = extract_features(
        "ids",
        &Sample::new(&frac, &[2]).unwrap(),
        &InputSpec::categorical(),
        10,
        0,
    )
    .unwrap_err();
    assert!(matches!(err, DriftError::NotInteger { index: 1, .. }));
}

#[test]
fn mismatched_inputs_are_rejected() {
    let d = iota(12);
    let mut a = DriftAnalysis::new(DriftSettings::default()).unwrap();
    let r = Sample::new(&d, &[4, 3]).unwrap();
    let c = Sample::new(&d, &[3, 4]).unwrap();
    let err = a.add_input("x", &r, &c, InputSpec::default()).unwrap_err();
    assert!(matches!(
        err,
        DriftError::FeatureCountMismatch {
            reference: 3,
            current: 4,
            ..
        }
    ));
    let c3 = Sample::new(&d, &[2, 2, 3]).unwrap();
    let err = a.add_input("x", &r, &c3, InputSpec::default()).unwrap_err();
    assert!(matches!(err, DriftError::RankMismatch { .. }));
    a.add_input("x", &r, &r, InputSpec::default()).unwrap();
    let err = a.add_input("x", &r, &r, InputSpec::default()).unwrap_err();
    assert!(matches!(err, DriftError::Duplicate { .. }));
    let bad = DriftSettings {
        psi_bins: 1,
        ..DriftSettings::default()
    };
    assert!(matches!(
        DriftAnalysis::new(bad),
        Err(DriftError::InvalidSetting {
            name: "psi_bins",
            ..
        })
    ));
}

#[test]
fn token_ids_as_categories() {
    // Token ids [N, T] pooled: the reference uses ids 0..50 uniformly, the current one shifts
    // half its mass onto ids 0..5.
    let reference: Vec<f32> = (0..4000u32).map(|i| ((i * 7919) % 50) as f32).collect();
    let current: Vec<f32> = (0..4000u32)
        .map(|i| {
            if i % 2 == 0 {
                (i % 5) as f32
            } else {
                ((i * 7919) % 50) as f32
            }
        })
        .collect();
    let shape = [200, 20];
    let mut a = DriftAnalysis::new(DriftSettings::default()).unwrap();
    let r = Sample::new(&reference, &shape).unwrap();
    a.add_input("same", &r, &r, InputSpec::categorical())
        .unwrap();
    a.add_input(
        "ids",
        &r,
        &Sample::new(&current, &shape).unwrap(),
        InputSpec::categorical(),
    )
    .unwrap();
    let report = a.finish();
    let [same, ids] = &report.features[..] else {
        panic!("two features")
    };
    assert_eq!(
        (same.kind, same.status, same.psi.value),
        (ValueKind::Categorical, FeatureStatus::NoDrift, 0.0)
    );
    assert!(same.wasserstein.is_none());
    assert_eq!(ids.psi.bins, 50);
    let DriftTest::ChiSquare(chi) = ids.test else {
        panic!("chi-square expected")
    };
    assert_eq!(chi.df, 49);
    assert!(chi.p_value < 1e-10 && ids.psi.value > 0.25);
    assert_eq!(report.verdict.status, OverallStatus::Drift);
}
