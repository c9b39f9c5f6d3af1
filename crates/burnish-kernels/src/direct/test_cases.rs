//! Convolution shapes for the direct kernel's tests: resnet's layers and edge cases, and a
//! seeded generator of random ones.

use crate::Conv2dParams;

/// Test data drawn from the project's one seeded generator.
pub(super) struct Rng(burnish_stats::Rng);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Self(burnish_stats::Rng::new(seed))
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Case {
    pub(super) input: [usize; 4],
    pub(super) oc: usize,
    pub(super) k: [usize; 2],
    pub(super) groups: usize,
    pub(super) params: Conv2dParams,
}

pub(super) fn random_case(rng: &mut Rng) -> Case {
    let groups = [1, 1, 1, 2, 3][rng.below(5)];
    let depthwise = rng.below(6) == 0;
    let (c, oc, groups) = if depthwise {
        let c = 1 + rng.below(20);
        (c, c, c)
    } else {
        (
            groups * (1 + rng.below(9)),
            groups * (1 + rng.below(14)),
            groups,
        )
    };
    let k = [1 + rng.below(4), 1 + rng.below(4)];
    let stride = [1 + rng.below(2), 1 + rng.below(3)];
    let dilation = [1 + rng.below(2), 1 + rng.below(2)];
    let pads = [rng.below(3), rng.below(3), rng.below(3), rng.below(3)];
    let span = |i: usize| dilation[i] * (k[i] - 1) + 1;
    let h = span(0) + rng.below(12);
    let w = span(1) + rng.below(40);
    Case {
        input: [1 + rng.below(2), c, h, w],
        oc,
        k,
        groups,
        params: Conv2dParams {
            stride,
            pads,
            dilation,
        },
    }
}

pub(super) fn fixed_cases() -> Vec<Case> {
    let p = |stride, pads, dilation| Conv2dParams {
        stride,
        pads,
        dilation,
    };
    let case = |input, oc, k, groups, params| Case {
        input,
        oc,
        k,
        groups,
        params,
    };
    vec![
        case([1, 3, 64, 64], 16, [3, 3], 1, p([2, 2], [1; 4], [1, 1])),
        case([2, 16, 32, 32], 16, [3, 3], 1, p([1, 1], [1; 4], [1, 1])),
        case([1, 16, 32, 32], 32, [3, 3], 1, p([2, 2], [1; 4], [1, 1])),
        case([1, 16, 32, 32], 32, [1, 1], 1, p([2, 2], [0; 4], [1, 1])),
        case([2, 64, 8, 8], 64, [3, 3], 1, p([1, 1], [1; 4], [1, 1])),
        case(
            [1, 5, 19, 33],
            13,
            [3, 5],
            1,
            p([1, 1], [2, 0, 1, 3], [2, 3]),
        ),
        case([1, 8, 9, 7], 10, [3, 3], 2, p([2, 1], [0, 2, 1, 0], [1, 2])),
        case([1, 7, 1, 30], 5, [1, 3], 1, p([1, 1], [0, 1, 0, 1], [1, 1])),
        case([1, 1, 1, 1], 1, [1, 1], 1, p([1, 1], [0; 4], [1, 1])),
        case([2, 8, 13, 21], 8, [3, 3], 8, p([2, 2], [1; 4], [1, 1])),
        // Depthwise past the taps f32 sums exactly: the i32 row kernel; and a large plane on
        // the float-lane one.
        case([1, 3, 20, 24], 3, [17, 17], 3, p([1, 1], [8; 4], [1, 1])),
        case([1, 24, 30, 45], 24, [3, 3], 24, p([2, 2], [1; 4], [1, 1])),
        // Outputs 8 pixels wide: two output rows per block read in place (odd and even
        // heights, stride 1 and 2).
        case([1, 6, 7, 8], 7, [3, 3], 1, p([1, 1], [1; 4], [1, 1])),
        case([1, 9, 9, 16], 5, [3, 3], 1, p([2, 2], [1; 4], [1, 1])),
        case([2, 3, 4, 10], 4, [1, 3], 1, p([1, 1], [0; 4], [1, 1])),
        // One-column inputs with `[kh, 1]` kernels (Conv1D along H): run along W.
        case(
            [1, 8, 40, 1],
            12,
            [5, 1],
            1,
            p([1, 1], [2, 0, 1, 0], [1, 1]),
        ),
        case([2, 6, 33, 1], 5, [3, 1], 1, p([2, 3], [1, 0, 0, 0], [2, 1])),
        case([1, 4, 30, 1], 4, [3, 1], 4, p([1, 1], [1, 0, 1, 0], [1, 1])),
        // Pointwise convolutions run each plane as one row; 20-pixel rows gather blocks.
        case([2, 10, 7, 9], 13, [1, 1], 1, p([1, 1], [0; 4], [2, 3])),
        case([1, 12, 5, 21], 8, [1, 1], 4, p([1, 1], [0; 4], [1, 1])),
        case([1, 8, 6, 20], 12, [3, 3], 1, p([1, 1], [1; 4], [1, 1])),
        // Large images: the batch runs in chunks of one image.
        case([3, 32, 40, 40], 8, [3, 3], 1, p([1, 1], [1; 4], [1, 1])),
    ]
}
