//! Clip-rate comparison for quantized activations.

use burnish_drift::{ClipInput, ClipThresholds, DriftError, clip_rate, clip_rates};

fn values(n: usize, outside: usize) -> Vec<f32> {
    (0..n)
        .map(|i| if i < outside { 10.0 } else { 0.5 })
        .collect()
}

#[test]
fn rates_and_staleness() {
    let t = ClipThresholds::default();
    let (r, stable, moved, tiny) = (
        values(1000, 5),
        values(1000, 8),
        values(1000, 40),
        values(1000, 12),
    );
    let make = |name: &'static str, current: &Vec<f32>| {
        clip_rate(
            &ClipInput {
                name,
                min: -1.0,
                max: 1.0,
                reference: &r,
                current,
            },
            &t,
        )
        .unwrap()
    };
    let a = make("stable", &stable);
    assert_eq!((a.reference_clipped, a.current_clipped), (5, 8));
    assert!((a.reference_rate - 0.005).abs() < 1e-12 && !a.stale);
    // 0.5% → 4%: +3.5 points and 8x: stale.
    assert!(make("moved", &moved).stale);
    // 0.5% → 1.2%: more than 2x but only +0.7 points: not stale.
    assert!(!make("tiny", &tiny).stale);
}

#[test]
fn bounds_are_inclusive_and_infinities_clip() {
    let v = [-1.0, 1.0, f32::INFINITY, f32::NEG_INFINITY, 1.000_001];
    let c = clip_rate(
        &ClipInput {
            name: "a",
            min: -1.0,
            max: 1.0,
            reference: &v,
            current: &v,
        },
        &ClipThresholds::default(),
    )
    .unwrap();
    assert_eq!(c.reference_clipped, 3);
}

#[test]
fn errors() {
    let t = ClipThresholds::default();
    let v = [0.0f32];
    let bad = ClipInput {
        name: "a",
        min: 1.0,
        max: -1.0,
        reference: &v,
        current: &v,
    };
    assert!(matches!(
        clip_rate(&bad, &t),
        Err(DriftError::InvalidRange { .. })
    ));
    let empty = ClipInput {
        name: "a",
        min: -1.0,
        max: 1.0,
        reference: &[],
        current: &v,
    };
    assert!(matches!(
        clip_rate(&empty, &t),
        Err(DriftError::Empty { .. })
    ));
    let nan = [f32::NAN];
    let n = ClipInput {
        name: "a",
        min: -1.0,
        max: 1.0,
        reference: &v,
        current: &nan,
    };
    assert!(matches!(
        clip_rate(&n, &t),
        Err(DriftError::NonFinite { .. })
    ));
    let ok = ClipInput {
        name: "a",
        min: -1.0,
        max: 1.0,
        reference: &v,
        current: &v,
    };
    assert!(matches!(
        clip_rates(&[ok, ok], &t),
        Err(DriftError::Duplicate { .. })
    ));
}
