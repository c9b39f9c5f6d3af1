//! The `vpmaddubsw` kernel at the edges of its exactness: every input code 255 (or 0, or the
//! zero point) against weights at the ends of the 7-bit range (`-64..=63`) and just inside
//! and outside the 6-bit one, over even and odd step counts and partial channel quads, against
//! the closed-form sum `(x - x_zero_point) * w * in_channels * taps`; and the `vpdpbusd`
//! kernel (every route this CPU has) at the ends of the 8-bit range.

use super::*;
use crate::Weights;

/// Every output of a 3x3 conv, no padding, over an input of `x` codes, with every weight `w`.
fn uniform(channels: usize, x: u8, x_zero_point: u8, w: i8, isa: Isa) -> (Vec<i32>, DirectConv) {
    let shape = [1, channels, 5, 20];
    let oc = 7;
    let weights = vec![w; oc * channels * 9];
    let packed = DirectConv::new(Weights::I8(&weights), &[0], [oc, channels, 3, 3], 1).unwrap();
    let data = vec![x; channels * 5 * 20];
    let input = QuantizedInput {
        data: &data[..],
        shape,
        zero_point: x_zero_point,
        scale: 1.0,
    };
    let mut out = vec![0i32; oc * 3 * 18];
    conv2d_direct_on::<u8, u8>(
        input,
        &packed,
        &Conv2dParams::default(),
        DirectOutput::I32(&mut out),
        isa,
    )
    .unwrap();
    (out, packed)
}

#[test]
fn extreme_codes_are_exact() {
    // 4, 8 and 16 channels: 9, 18 and 36 steps (odd and even); 3 and 12: partial quads.
    let detected = Isa::detected();
    let eight = [-128i8, -127, -65, 64, 127];
    for channels in [3, 4, 8, 12, 16] {
        for w in [-64i8, -33, -32, 31, 32, 63].iter().chain(&eight).copied() {
            for (x, zp) in [(255u8, 0u8), (0, 0), (255, 255), (0, 255), (200, 17)] {
                let (out, packed) = uniform(channels, x, zp, w, detected);
                let seven = (-64..=63).contains(&w);
                if seven || detected.vnni {
                    assert!(packed.quads.is_some(), "weights {w} pack quads");
                }
                let want = (i32::from(x) - i32::from(zp)) * i32::from(w) * channels as i32 * 9;
                assert!(
                    out.iter().all(|&v| v == want),
                    "channels={channels} w={w} x={x} zp={zp}: {:?} != {want}",
                    &out[..4]
                );
            }
        }
    }
}
