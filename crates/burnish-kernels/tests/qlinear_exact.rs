//! Weight zero points, u8 weights and the ORT-style integer requantization are exact against
//! plain integer references, for every kernel this CPU runs.

mod common;

use burnish_kernels::{
    Kernel, PackedB, Requant, Weights, gemm_i32, gemm_qlinear, gemm_scaled, reference, requantize,
};
use common::Rng;

/// `sum_k (a - azp) * (b - bzp[j])` with plain loops over i64.
fn reference_zp(
    a: &[u8],
    azp: i32,
    b: &[i32],
    bzp: &[i32],
    (m, k, n): (usize, usize, usize),
) -> Vec<i32> {
    let mut out = vec![0i32; m * n];
    for i in 0..m {
        for j in 0..n {
            let s: i64 = (0..k)
                .map(|p| {
                    i64::from(i32::from(a[i * k + p]) - azp) * i64::from(b[p * n + j] - bzp[j])
                })
                .sum();
            out[i * n + j] = s as i32;
        }
    }
    out
}

const SHAPES: [(usize, usize, usize); 6] = [
    (1, 1, 1),
    (5, 3, 17),
    (13, 40, 33),
    (64, 129, 20),
    (1, 300, 70),
    (97, 64, 130),
];

#[test]
fn weight_zero_points_and_u8_weights_are_exact() {
    for kernel in Kernel::available() {
        let mut rng = Rng::new(0xC0FFEE);
        for (case, shape @ (m, k, n)) in SHAPES.into_iter().enumerate() {
            let a = rng.bytes(m * k, case);
            let azp = rng.next() as u8;
            let bu = rng.bytes(k * n, case + 1);
            let bi: Vec<i8> = rng.weights(k * n, case + 2);
            let zps_u: Vec<i32> = (0..n).map(|_| i32::from(rng.next() as u8)).collect();
            let zps_i: Vec<i32> = (0..n).map(|_| i32::from(rng.next() as i8)).collect();
            for (w, zps, b32) in [
                (
                    Weights::U8(&bu),
                    zps_u.clone(),
                    bu.iter().map(|&v| i32::from(v)).collect::<Vec<_>>(),
                ),
                (
                    Weights::I8(&bi),
                    zps_i.clone(),
                    bi.iter().map(|&v| i32::from(v)).collect(),
                ),
                (
                    Weights::U8(&bu),
                    vec![zps_u[0]],
                    bu.iter().map(|&v| i32::from(v)).collect(),
                ),
            ] {
                let packed = PackedB::quantized(kernel, w, &zps, k, n).unwrap();
                let mut out = vec![0i32; m * n];
                gemm_i32(&a, azp, &packed, &mut out).unwrap();
                let full: Vec<i32> = (0..n).map(|j| zps[j.min(zps.len() - 1)]).collect();
                let want = reference_zp(&a, i32::from(azp), &b32, &full, shape);
                assert!(
                    out == want,
                    "{kernel} {shape:?} zero points {:?}",
                    &zps[..1]
                );
            }
        }
    }
}

#[test]
fn qlinear_requantization_matches_the_reference_formula() {
    for kernel in Kernel::available() {
        let mut rng = Rng::new(99);
        for (case, shape @ (m, k, n)) in SHAPES.into_iter().enumerate() {
            let a = rng.bytes(m * k, case);
            let b = rng.weights(k * n, case);
            let packed = PackedB::with_kernel(kernel, &b, k, n).unwrap();
            let acc = reference::gemm_i32(&a, 128u8, &b, m, k, n);
            let multiplier: Vec<f32> = (0..n).map(|j| 1e-3 + j as f32 * 3.7e-4).collect();
            let bias: Vec<i32> = (0..n)
                .map(|_| (rng.next() % 20001) as i32 - 10000)
                .collect();
            for (zp, min, max) in [(128, 0, 255), (10, 10, 255), (3, 0, 90)] {
                let rq = Requant {
                    multiplier: &multiplier,
                    bias: Some(&bias),
                    zero_point: zp,
                    min,
                    max,
                };
                let mut out = vec![0u8; m * n];
                gemm_qlinear(&a, 128u8, &packed, &rq, &mut out).unwrap();
                let want: Vec<u8> = acc
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let j = i % n;
                        requantize(v + bias[j], multiplier[j], zp, min, max) as u8
                    })
                    .collect();
                assert!(
                    out == want,
                    "{kernel} {shape:?} zp {zp} clamp {min}..={max}"
                );
            }
            let rq = Requant {
                multiplier: &multiplier,
                bias: None,
                zero_point: -5,
                min: -128,
                max: 127,
            };
            let mut out = vec![0i8; m * n];
            gemm_qlinear(&a, 128u8, &packed, &rq, &mut out).unwrap();
            for (i, (&o, &v)) in out.iter().zip(&acc).enumerate() {
                assert_eq!(
                    i32::from(o),
                    requantize(v, multiplier[i % n], -5, -128, 127)
                );
            }
            let scales: Vec<f32> = multiplier.iter().map(|s| s * 0.5).collect();
            let mut outf = vec![0f32; m * n];
            gemm_scaled(&a, 128u8, &packed, &scales, None, &mut outf).unwrap();
            for (i, (&o, &v)) in outf.iter().zip(&acc).enumerate() {
                assert_eq!(o, v as f32 * scales[i % n]);
            }
        }
    }
}

#[test]
fn ties_round_to_even() {
    // acc * 0.5 lands exactly on .5 for odd sums: 1.5 -> 2, 2.5 -> 2, -0.5 -> 0 (then + zp).
    for (acc, want) in [(3, 2), (5, 2), (-1, 0), (7, 4), (-3, -2)] {
        assert_eq!(requantize(acc, 0.5, 0, -128, 127), want, "acc {acc}");
    }
    let packed = PackedB::new(&[1i8], 1, 1).unwrap();
    for (a, want) in [(3u8, 2u8), (5, 2), (7, 4), (9, 4)] {
        let rq = Requant {
            multiplier: &[0.5],
            bias: None,
            zero_point: 0,
            min: 0,
            max: 255,
        };
        let mut out = [0u8];
        gemm_qlinear(&[a], 0u8, &packed, &rq, &mut out).unwrap();
        assert_eq!(out[0], want, "a {a}");
    }
}
