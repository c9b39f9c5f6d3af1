//! Prediction drift on synthetic logits.

mod common;
use common::Draws;

use burnish_drift::{
    DriftError, DriftSettings, FeatureStatus, Sample, prediction_drift, top1_counts,
};

/// `n` rows of `[K]` logits whose arg-max follows `priors` (true class +3, noise N(0, 0.5)).
fn logits(rng: &mut common::Rng, n: usize, priors: &[f64]) -> Vec<f32> {
    let k = priors.len();
    let mut out = Vec::with_capacity(n * k);
    for _ in 0..n {
        let class = rng.categorical(priors);
        out.extend((0..k).map(|j| 0.5 * rng.normal() as f32 + if j == class { 3.0 } else { 0.0 }));
    }
    out
}

#[test]
fn top1_counts_rows() {
    let data = [0.1, 0.9, 0.0, 2.0, 1.0, 2.0, -1.0, -3.0, -2.0];
    let counts = top1_counts("p", &Sample::new(&data, &[3, 3]).unwrap()).unwrap();
    assert_eq!(counts, vec![2, 1, 0], "ties go to the lower index");
    let err = top1_counts("p", &Sample::new(&data, &[9, 1]).unwrap()).unwrap_err();
    assert!(matches!(err, DriftError::TooFewClasses { .. }));
}

#[test]
fn identical_priors_do_not_alarm() {
    let priors = [0.4, 0.3, 0.2, 0.1];
    let mut alarms = 0;
    for seed in 0..10 {
        let mut rng = common::Rng::new(seed);
        let r = logits(&mut rng, 2000, &priors);
        let c = logits(&mut rng, 1500, &priors);
        let p = prediction_drift(
            &Sample::new(&r, &[2000, 4]).unwrap(),
            &Sample::new(&c, &[1500, 4]).unwrap(),
            &DriftSettings::default(),
        )
        .unwrap();
        assert_eq!(
            (p.classes, p.reference_predictions, p.current_predictions),
            (4, 2000, 1500)
        );
        assert!(p.psi.value < 0.1, "PSI {}", p.psi.value);
        alarms += usize::from(p.status == FeatureStatus::Drift);
    }
    assert!(alarms <= 2, "{alarms} false alarms in 10");
}

#[test]
fn prior_change_alarms() {
    let mut rng = common::Rng::new(9);
    let r = logits(&mut rng, 2000, &[0.4, 0.3, 0.2, 0.1]);
    let c = logits(&mut rng, 2000, &[0.25, 0.25, 0.25, 0.25]);
    let p = prediction_drift(
        &Sample::new(&r, &[2000, 4]).unwrap(),
        &Sample::new(&c, &[2000, 4]).unwrap(),
        &DriftSettings::default(),
    )
    .unwrap();
    assert_eq!(p.status, FeatureStatus::Drift);
    assert!(p.chi_square.p_value < 1e-10 && p.chi_square.df == 3);
    assert!((p.frequencies[3].current - 0.25).abs() < 0.03);
    assert!((p.frequencies[3].reference - 0.1).abs() < 0.03);
}

#[test]
fn per_token_logits_count_every_position() {
    let mut rng = common::Rng::new(1);
    let r = logits(&mut rng, 6 * 50, &[0.5, 0.5]);
    let c = logits(&mut rng, 6 * 50, &[0.5, 0.5]);
    let p = prediction_drift(
        &Sample::new(&r, &[6, 50, 2]).unwrap(),
        &Sample::new(&c, &[6, 50, 2]).unwrap(),
        &DriftSettings::default(),
    )
    .unwrap();
    assert_eq!(p.reference_predictions, 300);
    let k3 = [0.0f32; 30];
    let err = prediction_drift(
        &Sample::new(&r, &[6, 50, 2]).unwrap(),
        &Sample::new(&k3, &[10, 3]).unwrap(),
        &DriftSettings::default(),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        DriftError::FeatureCountMismatch {
            reference: 2,
            current: 3,
            ..
        }
    ));
}
