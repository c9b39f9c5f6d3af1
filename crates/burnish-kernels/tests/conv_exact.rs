//! im2col int8 convolution is exact against the direct reference, for every kernel, with 8-bit
//! and 7-bit weights.

mod common;

use burnish_kernels::{
    Conv2dParams, Kernel, PackedConv, QuantizedInput, conv2d_int8, conv2d_int8_i32, reference,
};
use common::Rng;

struct Case {
    input: [usize; 4],
    oc: usize,
    k: [usize; 2],
    groups: usize,
    params: Conv2dParams,
}

fn cases() -> Vec<Case> {
    let p = |stride: [usize; 2], pads: [usize; 4], dilation: [usize; 2]| Conv2dParams {
        stride,
        pads,
        dilation,
    };
    vec![
        Case {
            input: [1, 1, 1, 1],
            oc: 1,
            k: [1, 1],
            groups: 1,
            params: p([1, 1], [0; 4], [1, 1]),
        },
        Case {
            input: [2, 3, 9, 7],
            oc: 5,
            k: [3, 3],
            groups: 1,
            params: p([1, 1], [1; 4], [1, 1]),
        },
        Case {
            input: [1, 4, 10, 11],
            oc: 6,
            k: [3, 2],
            groups: 2,
            params: p([2, 1], [1, 0, 2, 1], [1, 1]),
        },
        Case {
            input: [2, 8, 8, 8],
            oc: 8,
            k: [3, 3],
            groups: 8,
            params: p([1, 1], [1; 4], [1, 1]),
        },
        Case {
            input: [1, 5, 12, 9],
            oc: 7,
            k: [3, 3],
            groups: 1,
            params: p([2, 2], [2, 1, 0, 3], [2, 3]),
        },
        Case {
            input: [1, 16, 14, 14],
            oc: 33,
            k: [1, 1],
            groups: 1,
            params: p([1, 1], [0; 4], [1, 1]),
        },
        Case {
            input: [1, 3, 32, 32],
            oc: 20,
            k: [7, 7],
            groups: 1,
            params: p([2, 2], [3; 4], [1, 1]),
        },
    ]
}

#[test]
fn conv_matches_the_direct_reference_on_every_kernel() {
    let mut rng = Rng::new(2024);
    for kernel in Kernel::available() {
        for (i, case) in cases().into_iter().enumerate() {
            let [n, c, h, w] = case.input;
            let icg = c / case.groups;
            let wshape = [case.oc, icg, case.k[0], case.k[1]];
            let x = rng.bytes(n * c * h * w, i);
            let wt8 = rng.weights(case.oc * icg * case.k[0] * case.k[1], i + 1);
            // The same codes halved into `-64..=63` take the 7-bit route on AVX2.
            let wt7: Vec<i8> = wt8.iter().map(|&v| v >> 1).collect();
            for wt in [wt8, wt7] {
                let zp = rng.next() as u8;
                let packed = PackedConv::with_kernel(kernel, &wt, wshape, case.groups).unwrap();
                let p = case.params;
                let (want, want_shape) = reference::conv2d_i32(
                    &x,
                    case.input,
                    zp,
                    &wt,
                    wshape,
                    case.groups,
                    p.stride,
                    p.pads,
                    p.dilation,
                );
                let input = QuantizedInput {
                    data: &x,
                    shape: case.input,
                    zero_point: zp,
                    scale: 0.1,
                };
                let mut out = vec![0i32; want.len()];
                let shape = conv2d_int8_i32(input, &packed, &p, &mut out).unwrap();
                assert_eq!(shape, want_shape);
                assert!(out == want, "{kernel} case {i}: mismatch");

                let scales: Vec<f32> = (0..case.oc).map(|o| 0.01 * (o + 1) as f32).collect();
                let bias: Vec<f32> = (0..case.oc).map(|o| o as f32 - 2.0).collect();
                let packed = packed.with_scales(&scales).unwrap();
                let mut outf = vec![0f32; want.len()];
                conv2d_int8(input, &packed, &p, Some(&bias), &mut outf).unwrap();
                let plane = shape[2] * shape[3];
                for (idx, (&got, &acc)) in outf.iter().zip(&want).enumerate() {
                    let o = idx / plane % case.oc;
                    assert_eq!(
                        got,
                        acc as f32 * (0.1 * scales[o]) + bias[o],
                        "{kernel} case {i}"
                    );
                }
            }
        }
    }
}

#[test]
fn i8_inputs_and_bad_geometry() {
    let x: Vec<i8> = (0..2 * 4 * 5 * 5)
        .map(|i| (i * 37 % 256) as u8 as i8)
        .collect();
    let wt: Vec<i8> = (0..6 * 2 * 3 * 3)
        .map(|i| (i * 11 % 255) as u8 as i8)
        .collect();
    let packed = PackedConv::new(&wt, [6, 2, 3, 3], 2).unwrap();
    let p = Conv2dParams {
        pads: [1; 4],
        ..Default::default()
    };
    let input = QuantizedInput {
        data: &x,
        shape: [2, 4, 5, 5],
        zero_point: -3i8,
        scale: 1.0,
    };
    let (want, _) = reference::conv2d_i32(
        &x,
        [2, 4, 5, 5],
        -3i8,
        &wt,
        [6, 2, 3, 3],
        2,
        [1, 1],
        [1; 4],
        [1, 1],
    );
    let mut out = vec![0i32; want.len()];
    conv2d_int8_i32(input, &packed, &p, &mut out).unwrap();
    assert_eq!(out, want);

    assert!(
        PackedConv::new(&wt, [6, 2, 3, 3], 4).is_err(),
        "6 channels into 4 groups"
    );
    let wrong_channels = QuantizedInput {
        shape: [2, 5, 5, 4],
        ..input
    };
    assert!(conv2d_int8_i32(wrong_channels, &packed, &p, &mut out).is_err());
    let too_small = Conv2dParams::default().output_shape([1, 4, 2, 2], &packed);
    assert!(too_small.is_err(), "3x3 kernel on an unpadded 2x2 input");
}
