//! Clip rates against a `QuantizeLinear` grid: ONNX saturation semantics, sides, staleness.

use burnish_drift::{
    ClipInput, ClipThresholds, DriftError, QuantGrid, QuantizedActivation, clip_rate,
    quantized_clip_rate, quantized_clip_rates,
};

/// u8 grid with scale 0.5 (exact in binary) and zero point 128: `q = rint(x / 0.5) + 128`.
fn grid() -> QuantGrid {
    QuantGrid::int8(0.5, 128, false)
}

#[test]
fn saturation_follows_round_half_even() {
    // x / 0.5 + 128:   63.5 -> 255 (in), 63.75 -> 127.5 rounds to 128 -> 256 (above),
    // 63.25 -> 126.5 rounds to 126 -> 254 (in), -64.25 -> -128.5 rounds to -128 -> 0 (in),
    // -64.75 -> -129.5 rounds to -130 -> -2 (below), infinities saturate.
    let reference = [
        63.5,
        63.75,
        63.25,
        -64.25,
        -64.75,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    let current = [0.0f32; 4];
    let act = QuantizedActivation {
        name: "a",
        grid: grid(),
        reference: &reference,
        current: &current,
    };
    let c = quantized_clip_rate(&act, &ClipThresholds::default()).unwrap();
    assert_eq!((c.reference_below, c.reference_above), (2, 2));
    assert_eq!(c.reference_clipped, 4);
    assert_eq!((c.current_clipped, c.reference_values), (0, 7));
    assert_eq!((c.min, c.max), (-64.25, 63.75));
    assert!(!c.stale);
}

#[test]
fn sides_are_judged_apart() {
    // Reference: half of all values saturate below (a Relu the quantizer folded into the
    // clamp), none above. Current: only 10% below but 5% above. The total dropped from 50% to
    // 15%, yet the upper end of the range is stale.
    let reference: Vec<f32> = (0..1000)
        .map(|i| if i % 2 == 0 { -100.0 } else { 1.0 })
        .collect();
    let current: Vec<f32> = (0..1000)
        .map(|i| match i % 20 {
            0 | 1 => -100.0,
            2 => 100.0,
            _ => 1.0,
        })
        .collect();
    let act = QuantizedActivation {
        name: "relu_in",
        grid: grid(),
        reference: &reference,
        current: &current,
    };
    let c = quantized_clip_rate(&act, &ClipThresholds::default()).unwrap();
    assert_eq!((c.reference_below, c.reference_above), (500, 0));
    assert_eq!((c.current_below, c.current_above), (100, 50));
    assert!(c.current_rate < c.reference_rate);
    assert!(c.stale);
}

#[test]
fn range_rows_use_the_same_side_rule() {
    let v = [-2.0f32, 0.0, 3.0, 4.0];
    let c = clip_rate(
        &ClipInput {
            name: "r",
            min: -1.0,
            max: 1.0,
            reference: &[0.0],
            current: &v,
        },
        &ClipThresholds::default(),
    )
    .unwrap();
    assert_eq!((c.current_below, c.current_above), (1, 2));
    assert!(c.stale);
}

#[test]
fn grid_errors() {
    let v = [0.0f32];
    let t = ClipThresholds::default();
    for bad in [
        QuantGrid::int8(0.0, 0, false),
        QuantGrid::int8(f32::NAN, 0, true),
        QuantGrid::int8(1.0, 300, false),
        QuantGrid::int8(1.0, -129, true),
    ] {
        let act = QuantizedActivation {
            name: "a",
            grid: bad,
            reference: &v,
            current: &v,
        };
        assert!(matches!(
            quantized_clip_rate(&act, &t),
            Err(DriftError::InvalidGrid { .. })
        ));
    }
    let ok = QuantizedActivation {
        name: "a",
        grid: grid(),
        reference: &v,
        current: &v,
    };
    assert!(matches!(
        quantized_clip_rates(&[ok, ok], &t),
        Err(DriftError::Duplicate { .. })
    ));
}
