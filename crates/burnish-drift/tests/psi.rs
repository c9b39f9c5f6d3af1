//! PSI against hand-computed cases.

use burnish_drift::SortedValues;
use burnish_drift::psi::{binned_psi, psi_from_counts, quantile_edges};

fn sorted(v: &[f32]) -> SortedValues {
    SortedValues::new("t", v).unwrap()
}

#[test]
fn two_bins_closed_form() {
    // Reference 1..=10: median 5.5 splits it 50/50. Current: 8 of 10 values at or below 5.5.
    // PSI = (0.8 − 0.5) ln(0.8/0.5) + (0.2 − 0.5) ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5 = 0.3 ln 4.
    let reference: Vec<f32> = (1..=10).map(|v| v as f32).collect();
    let current = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.5, 7.0, 9.0];
    assert_eq!(quantile_edges(&sorted(&reference), 2), vec![5.5]);
    let psi = binned_psi(&sorted(&reference), &sorted(&current), 2, 1e-4);
    assert_eq!(psi.bins, 2);
    assert!(
        (psi.value - 0.3 * 4f64.ln()).abs() < 1e-12,
        "PSI {}",
        psi.value
    );
}

#[test]
fn ten_decile_bins_closed_form() {
    // Reference 0..100: deciles at 9.9, 19.8, …; each bin holds 10 reference values.
    // Current: all 100 values in the first five bins, 20 each.
    // PSI = 5 (0.2 − 0.1) ln 2 + 5 (ε − 0.1) ln(ε / 0.1), ε = 1e-4.
    let reference: Vec<f32> = (0..100).map(|v| v as f32).collect();
    let current: Vec<f32> = (0..100).map(|v| (v / 2) as f32).collect();
    let psi = binned_psi(&sorted(&reference), &sorted(&current), 10, 1e-4);
    let eps = 1e-4f64;
    let expected = 5.0 * 0.1 * 2f64.ln() + 5.0 * (eps - 0.1) * (eps / 0.1).ln();
    assert_eq!(psi.bins, 10);
    assert!(
        (psi.value - expected).abs() < 1e-12,
        "PSI {} vs {expected}",
        psi.value
    );
}

#[test]
fn identical_is_zero_and_psi_is_symmetric_in_form() {
    let v: Vec<f32> = (0..1000).map(|i| ((i * 7) % 13) as f32).collect();
    assert_eq!(binned_psi(&sorted(&v), &sorted(&v), 10, 1e-4).value, 0.0);
    assert!(
        (psi_from_counts(&[30, 70], &[60, 40], 1e-4) - psi_from_counts(&[60, 40], &[30, 70], 1e-4))
            .abs()
            < 1e-15
    );
}

#[test]
fn epsilon_bounds_empty_bins() {
    // One empty bin: term (0.5 − ε) ln(0.5 / ε) instead of infinity.
    let eps = 1e-4f64;
    let psi = psi_from_counts(&[50, 50], &[100, 0], eps);
    let expected = 0.5 * 2f64.ln() + (eps - 0.5) * (eps / 0.5).ln();
    assert!((psi - expected).abs() < 1e-12);
}

#[test]
fn noise_floor_matches_simulation() {
    use burnish_drift::psi::psi_noise_floor;
    // Mean PSI over 200 pairs of same-law samples, 10 bins, 200 vs 300 values.
    let mut rng = burnish_stats::Rng::new(1);
    let mut uniform = || rng.uniform_f32(0.0, 1.0);
    let mean: f64 = (0..200)
        .map(|_| {
            let a: Vec<f32> = (0..200).map(|_| uniform()).collect();
            let b: Vec<f32> = (0..300).map(|_| uniform()).collect();
            binned_psi(&sorted(&a), &sorted(&b), 10, 1e-4).value
        })
        .sum::<f64>()
        / 200.0;
    let floor = psi_noise_floor(10, 200, 300);
    assert!(
        (mean / floor - 1.0).abs() < 0.2,
        "mean {mean} vs floor {floor}"
    );
}
