//! End to end on seeded synthetic data with known shifts.

mod common;
use common::Draws;

use burnish_drift::{
    DriftAnalysis, DriftReport, DriftSettings, DriftTest, FeatureStatus, InputSpec, OverallStatus,
    PsiLevel, Sample,
};

fn analyse(reference: &[f32], current: &[f32], features: usize) -> DriftReport {
    let rs = [reference.len() / features, features];
    let cs = [current.len() / features, features];
    let mut a = DriftAnalysis::new(DriftSettings::default()).unwrap();
    a.add_input(
        "x",
        &Sample::new(reference, &rs).unwrap(),
        &Sample::new(current, &cs).unwrap(),
        InputSpec::default(),
    )
    .unwrap();
    a.finish()
}

fn ks_p(f: &burnish_drift::FeatureDrift) -> f64 {
    match f.test {
        DriftTest::Ks(k) => k.p_value,
        DriftTest::ChiSquare(_) => panic!("continuous feature expected"),
    }
}

#[test]
fn no_shift_rarely_alarms() {
    // 20 seeds × 5 features, N = 2000 on both sides, same law.
    let (mut rows, mut psi_ok, mut ks_ok, mut drift_verdicts) = (0, 0, 0, 0);
    for seed in 0..20 {
        let mut rng = common::Rng::new(seed);
        let reference = rng.normals(2000 * 5, 0.0, 1.0);
        let current = rng.normals(2000 * 5, 0.0, 1.0);
        let report = analyse(&reference, &current, 5);
        for f in &report.features {
            rows += 1;
            psi_ok += usize::from(f.psi.value < 0.1);
            ks_ok += usize::from(ks_p(f) > 0.05);
        }
        drift_verdicts += usize::from(report.verdict.status == OverallStatus::Drift);
    }
    assert_eq!(psi_ok, rows, "PSI stays below 0.1 without a shift");
    assert!(
        ks_ok as f64 >= 0.9 * rows as f64,
        "KS accepted {ks_ok} of {rows}"
    );
    assert_eq!(drift_verdicts, 0);
}

#[test]
fn half_sigma_mean_shift_alarms_on_psi_and_ks() {
    for seed in 0..5 {
        let mut rng = common::Rng::new(100 + seed);
        let reference = rng.normals(2000, 0.0, 1.0);
        let current = rng.normals(2000, 0.5, 1.0);
        let report = analyse(&reference, &current, 1);
        let f = &report.features[0];
        assert!(
            f.psi_level >= PsiLevel::Moderate,
            "seed {seed}: PSI {}",
            f.psi.value
        );
        assert!(ks_p(f) < 1e-6, "seed {seed}: KS p {}", ks_p(f));
        assert_eq!(f.status, FeatureStatus::Drift);
        let w = f.wasserstein.unwrap();
        assert!(
            (w.normalized.unwrap() - 0.5).abs() < 0.1,
            "W1/std {:?}",
            w.normalized
        );
        assert_eq!(report.verdict.status, OverallStatus::Drift);
        assert_eq!(report.verdict.drifted_features, ["x[0]"]);
    }
}

#[test]
fn scale_change_is_detected() {
    let mut rng = common::Rng::new(7);
    let reference = rng.normals(2000, 0.0, 1.0);
    let current = rng.normals(2000, 0.0, 1.5);
    let report = analyse(&reference, &current, 1);
    let f = &report.features[0];
    assert!(ks_p(f) < 1e-6, "KS p {}", ks_p(f));
    assert!(f.psi.value >= 0.1, "PSI {}", f.psi.value);
    assert!((f.current.std / f.reference.std - 1.5).abs() < 0.1);
    assert_eq!(f.status, FeatureStatus::Drift);
}

#[test]
fn only_the_shifted_column_drifts() {
    let mut rng = common::Rng::new(42);
    let reference = rng.normals(3000 * 4, 0.0, 1.0);
    let mut current = rng.normals(3000 * 4, 0.0, 1.0);
    current
        .iter_mut()
        .skip(2)
        .step_by(4)
        .for_each(|v| *v += 1.0);
    let report = analyse(&reference, &current, 4);
    assert_eq!(report.verdict.drifted_features, ["x[2]"]);
    assert!((report.verdict.drifted_share - 0.25).abs() < 1e-12);
    // One of four is below the default 50% data set share.
    assert_eq!(report.verdict.status, OverallStatus::NoDrift);
}

#[test]
fn large_inputs_are_subsampled_deterministically() {
    let mut rng = common::Rng::new(5);
    let reference = rng.normals(150_000, 0.0, 1.0);
    let current = rng.normals(120_000, 0.0, 1.0);
    let a = analyse(&reference, &current, 1);
    let f = &a.features[0];
    assert!(f.subsampled);
    assert_eq!((f.reference.values, f.reference.total), (100_000, 150_000));
    assert_eq!((f.current.values, f.current.total), (100_000, 120_000));
    assert_eq!(
        analyse(&reference, &current, 1),
        a,
        "same seed, same report"
    );
    assert!(a.render_table().contains("subsampled to 100000 values"));
}
