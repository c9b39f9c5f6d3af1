//! The channel-lane and pointwise paths (`plane.rs`, `pointwise.rs`, AVX-512) against a direct
//! f64 convolution, on one thread and on three (tasks and single chunks split inside).

use super::tests::{Case, Lcg, check, geometry};
use super::*;

/// Convolutions that take the channel-lane path with AVX-512: small planes with stride 2,
/// asymmetric pads and dilation and channels no multiple of 16; a pointwise conv on a small
/// plane whose channels fill the lanes better; planes of several chunks of pixels (3x3
/// padded, batch 2; stride 2 with asymmetric pads; a strided pointwise conv), whose chunks
/// run as tasks.
const PLANE_CASES: [Conv2dGeometry; 6] = [
    geometry(2, 6, [13, 14], 70, [3, 3], [2, 2], [1, 1], [1, 0, 2, 1], 1),
    geometry(1, 5, [11, 12], 80, [3, 2], [1, 1], [2, 3], [2, 1, 0, 3], 1),
    geometry(
        2,
        260,
        [13, 13],
        64,
        [1, 1],
        [1, 1],
        [1, 1],
        [0, 0, 0, 0],
        1,
    ),
    geometry(2, 24, [22, 30], 64, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    geometry(1, 70, [40, 50], 80, [3, 3], [2, 2], [1, 1], [1, 0, 1, 2], 1),
    geometry(
        1,
        200,
        [17, 19],
        100,
        [1, 1],
        [2, 2],
        [1, 1],
        [0, 0, 0, 0],
        1,
    ),
];

/// Pointwise convolutions that take `pointwise.rs` with AVX-512: channels no multiple of 6
/// (partial row tiles), planes no multiple of 16 (masked last vectors) and exactly 32 pixels,
/// several groups (ShuffleNet), batch 3, a reduction of hundreds of steps, the squeeze and
/// expand layers of SqueezeNet, and 1x1 and 2x2 convs with stride 2 (rows merged: their
/// windows lie back to back in the phase planes).
const POINTWISE_CASES: [Conv2dGeometry; 9] = [
    geometry(2, 40, [9, 23], 70, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(
        1,
        128,
        [27, 27],
        32,
        [1, 1],
        [1, 1],
        [1, 1],
        [0, 0, 0, 0],
        1,
    ),
    geometry(
        1,
        32,
        [27, 27],
        128,
        [1, 1],
        [1, 1],
        [1, 1],
        [0, 0, 0, 0],
        1,
    ),
    geometry(1, 24, [12, 12], 48, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 3),
    geometry(3, 16, [5, 13], 7, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 8, [4, 8], 6, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 520, [8, 9], 20, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
    geometry(2, 40, [15, 40], 70, [1, 1], [2, 2], [1, 1], [0, 0, 0, 0], 1),
    geometry(1, 12, [18, 30], 20, [2, 2], [2, 2], [1, 1], [0, 0, 0, 0], 1),
];

#[test]
fn plane_cases_take_the_channel_lane_path() {
    let mut rng = Lcg::new(5);
    for g in PLANE_CASES {
        let packed = Case::new(&g, &mut rng).packed;
        let avx512 = crate::cpu::features().avx512();
        assert_eq!(super::plane::applies(&g, &packed), avx512, "{g:?}");
        #[cfg(target_arch = "x86_64")]
        assert!(!super::wide::applies(&g, &packed), "{g:?}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn pointwise_cases_take_the_wide_path() {
    let mut rng = Lcg::new(17);
    for g in POINTWISE_CASES {
        let packed = Case::new(&g, &mut rng).packed;
        let avx512 = crate::cpu::features().avx512();
        assert_eq!(super::wide::applies(&g, &packed), avx512, "{g:?}");
    }
}

#[test]
fn plane_and_pointwise_cases_match_direct_convolution() {
    let mut rng = Lcg::new(13);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for g in PLANE_CASES.into_iter().chain(POINTWISE_CASES) {
                check(g, &mut rng);
            }
        });
    }
}
