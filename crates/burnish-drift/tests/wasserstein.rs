//! Wasserstein-1 against closed forms and scipy.

mod common;
use common::Draws;

use burnish_drift::SortedValues;
use burnish_drift::wasserstein::{wasserstein, wasserstein_1};

fn sorted(v: &[f32]) -> SortedValues {
    SortedValues::new("t", v).unwrap()
}

#[test]
fn shifted_copy_moves_by_the_shift() {
    let a = common::Rng::new(3).normals(1000, 0.0, 1.0);
    let b: Vec<f32> = a.iter().map(|v| v + 0.7).collect();
    let w = wasserstein_1(&sorted(&a), &sorted(&b));
    assert!((w - 0.7).abs() < 1e-6, "W1 {w}");
    // And in the other direction, unchanged.
    assert!((wasserstein_1(&sorted(&b), &sorted(&a)) - w).abs() < 1e-12);
}

#[test]
fn uniform_zero_one_against_zero_two() {
    // W1(U(0,1), U(0,2)) = ∫₀¹ |2u − u| du = 1/2; mid-point grids of equal size hit it exactly.
    let n = 1000;
    let a: Vec<f32> = (0..n).map(|i| (i as f32 + 0.5) / n as f32).collect();
    let b: Vec<f32> = (0..n).map(|i| 2.0 * (i as f32 + 0.5) / n as f32).collect();
    assert!((wasserstein_1(&sorted(&a), &sorted(&b)) - 0.5).abs() < 1e-6);
    // Seeded uniform draws of different sizes get close.
    let mut rng = common::Rng::new(11);
    let a: Vec<f32> = (0..20_000).map(|_| rng.uniform() as f32).collect();
    let b: Vec<f32> = (0..15_000).map(|_| 2.0 * rng.uniform() as f32).collect();
    let w = wasserstein_1(&sorted(&a), &sorted(&b));
    assert!((w - 0.5).abs() < 0.02, "W1 {w}");
}

#[test]
fn normalized_by_reference_std() {
    let a: Vec<f32> = (0..100).map(|i| i as f32).collect();
    let b: Vec<f32> = a.iter().map(|v| v + 10.0).collect();
    let w = wasserstein(&sorted(&a), &sorted(&b));
    let std = (((100.0f64 * 100.0) - 1.0) / 12.0).sqrt();
    assert!((w.distance - 10.0).abs() < 1e-9);
    assert!((w.normalized.unwrap() - 10.0 / std).abs() < 1e-9);
    assert_eq!(
        wasserstein(&sorted(&[1.0; 5]), &sorted(&[2.0])).normalized,
        None
    );
}

#[test]
fn matches_scipy_on_unequal_sizes() {
    // scipy.stats.wasserstein_distance, from tests/scripts/ks_reference.py (scipy 1.17.1).
    let seq = |n: u32, f: &dyn Fn(u32) -> u32| (0..n).map(|i| f(i) as f32).collect::<Vec<_>>();
    let cases: [(Vec<f32>, Vec<f32>, f64); 3] = [
        (
            seq(200, &|i| (i * 37) % 101),
            seq(150, &|j| (j * 53) % 97 + 15),
            12.114999999999998,
        ),
        (
            seq(300, &|i| i % 5),
            seq(250, &|j| ((j * 3) % 7).min(4)),
            0.5720000000000002,
        ),
        (
            seq(8, &|i| (i * 5) % 11),
            seq(10, &|j| (j * 3) % 7 + 4),
            1.875,
        ),
    ];
    for (a, b, expected) in cases {
        let w = wasserstein_1(&sorted(&a), &sorted(&b));
        assert!((w - expected).abs() < 1e-9, "W1 {w} vs {expected}");
    }
}
