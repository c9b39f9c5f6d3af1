//! The channel-lane path (`plane.rs`, AVX-512) against a direct f64 convolution, on one
//! thread and on three (single chunks split inside, several chunks as tasks).

use super::tests::{Lcg, check, geometry};
use super::*;

/// Convolutions that take the channel-lane path with AVX-512: small planes with stride 2,
/// asymmetric pads and dilation and channels no multiple of 16; unpadded pointwise convs with a
/// long reduction on a small and on a larger plane; planes of several chunks of pixels (3x3
/// padded, batch 2; stride 2 with asymmetric pads; pointwise), whose chunks run as tasks.
const PLANE_CASES: [Conv2dGeometry; 7] = [
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
    geometry(
        1,
        300,
        [24, 24],
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
        [1, 1],
        [1, 1],
        [0, 0, 0, 0],
        1,
    ),
];

#[test]
fn plane_cases_take_the_channel_lane_path() {
    let mut rng = Lcg::new(5);
    for g in PLANE_CASES {
        let w = rng.vec(g.out_channels * g.in_per_group() * g.kernel[0] * g.kernel[1]);
        let shape = [g.out_channels, g.in_per_group(), g.kernel[0], g.kernel[1]];
        let packed = PackedConvWeights::new(&w, shape, g.groups, None).unwrap();
        let avx512 = crate::cpu::features().avx512();
        assert_eq!(super::plane::applies(&g, &packed), avx512, "{g:?}");
    }
}

#[test]
fn plane_cases_match_direct_convolution() {
    let mut rng = Lcg::new(13);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            for g in PLANE_CASES {
                check(g, &mut rng);
            }
        });
    }
}
