//! The narrow-weight routes (AVX2 `vpmaddubsw`): the 7-bit one, chosen by `PackedB` exactly
//! when every weight minus its zero point fits `-64..=63` on AVX2, and the 6-bit one (two depth
//! groups summed in i16), chosen when they fit `-32..=31`; both bit-exact against the integer
//! reference.

mod common;

use burnish_kernels::{
    Activation, Kernel, MAX_K, PackedB, Weights, gemm_i32, gemm_requant, reference,
};
use common::Rng;

/// Whether `kernel` has 7-bit and 6-bit variants (only AVX2 does).
fn has_7bit_route(kernel: Kernel) -> bool {
    kernel == Kernel::Avx2
}

/// Whether every centered weight fits 6 bits.
fn fits_6bit(centered: &[i8]) -> bool {
    centered.iter().all(|w| (-32..=31).contains(w))
}

/// Weights in `-32..=31`, with both ends present whenever there are two or more.
fn weights_6bit(rng: &mut Rng, len: usize) -> Vec<i8> {
    let mut w: Vec<i8> = (0..len).map(|_| (rng.below(64) as i8) - 32).collect();
    if len >= 2 {
        let (i, j) = (rng.below(len), rng.below(len));
        w[i] = -32;
        w[if j == i { (i + 1) % len } else { j }] = 31;
    }
    w
}

/// Weights in `-64..=63`, with both ends present whenever there are two or more.
fn weights_7bit(rng: &mut Rng, len: usize) -> Vec<i8> {
    let mut w: Vec<i8> = (0..len).map(|_| (rng.below(128) as i8) - 64).collect();
    if len >= 2 {
        let (i, j) = (rng.below(len), rng.below(len));
        w[i] = -64;
        w[if j == i { (i + 1) % len } else { j }] = 63;
    }
    w
}

/// Activations from the shared distributions, with 0 and 255 forced in.
fn activations(rng: &mut Rng, len: usize, mode: usize) -> Vec<u8> {
    let mut a = rng.bytes(len, mode);
    a[rng.below(len)] = 0;
    a[rng.below(len)] = 255;
    a
}

fn shapes(rng: &mut Rng) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 3, 17),
        (6, 4, 16),
        (7, 5, 33),
        (12, 8, 32),
        (13, 17, 35),
        (1, 1001, 70),
        (97, 3, 129),
        (64, 1023, 48),
        (200, 514, 130),
        (300, 515, 270),
    ];
    for _ in 0..40 {
        shapes.push((1 + rng.below(70), 1 + rng.below(130), 1 + rng.below(80)));
    }
    shapes
}

fn check<A: Activation + std::fmt::Debug>(
    kernel: Kernel,
    a: &[A],
    zp: A,
    b: &[i8],
    (m, k, n): (usize, usize, usize),
) {
    let packed = PackedB::with_kernel(kernel, b, k, n).unwrap();
    assert_eq!(packed.seven_bit(), has_7bit_route(kernel), "{kernel} route");
    let six = has_7bit_route(kernel) && fits_6bit(b);
    assert_eq!(packed.six_bit(), six, "{kernel} 6-bit route");
    let mut out = vec![0i32; m * n];
    gemm_i32(a, zp, &packed, &mut out).unwrap();
    assert!(
        out == reference::gemm_i32(a, zp, b, m, k, n),
        "{kernel} m={m} k={k} n={n} zp={zp:?}: mismatch"
    );
}

#[test]
fn u8_activations_times_7bit_weights_are_exact() {
    let mut rng = Rng::new(0xD1B5_4A32_D192_ED03);
    for (case, shape @ (m, k, n)) in shapes(&mut rng).into_iter().enumerate() {
        let a = activations(&mut rng, m * k, case);
        let b = weights_7bit(&mut rng, k * n);
        let zps = [0u8, 128, 255, rng.next() as u8];
        for kernel in Kernel::available() {
            for zp in zps {
                check(kernel, &a, zp, &b, shape);
            }
        }
    }
}

#[test]
fn i8_activations_times_7bit_weights_are_exact() {
    let mut rng = Rng::new(987_654_321);
    for (case, shape @ (m, k, n)) in shapes(&mut rng).into_iter().enumerate() {
        let a: Vec<i8> = activations(&mut rng, m * k, case + 1)
            .into_iter()
            .map(|v| v as i8)
            .collect();
        let b = weights_7bit(&mut rng, k * n);
        for kernel in Kernel::available() {
            for zp in [0i8, -128, 127, rng.next() as i8] {
                check(kernel, &a, zp, &b, shape);
            }
        }
    }
}

#[test]
fn extreme_7bit_products_at_large_depth_are_exact() {
    // 255 * -64 and 255 * 63 in every pair: the largest i16 pair sums `vpmaddubsw` makes.
    for kernel in Kernel::available() {
        for (k, w) in [(4099, -64i8), (4099, 63), (MAX_K, -64)] {
            let (m, n) = (7, 19);
            let a = vec![255u8; m * k];
            let b = vec![w; k * n];
            check(kernel, &a, 0, &b, (m, k, n));
            check(kernel, &a, 255, &b, (m, k, n));
        }
        let (m, k, n) = (9, 301, 23);
        let b: Vec<i8> = (0..k * n)
            .map(|i| if i % 3 == 0 { 63 } else { -64 })
            .collect();
        check(kernel, &vec![255u8; m * k], 3, &b, (m, k, n));
    }
}

#[test]
fn weights_7bit_after_their_zero_points_take_the_route() {
    // u8 codes around a per-column zero point, and i8 codes outside 7 bits whose zero point
    // brings them inside: both are 7-bit weights once the zero point is removed.
    let mut rng = Rng::new(31_337);
    for (m, k, n) in [(5, 37, 21), (70, 130, 45), (1, 9, 3)] {
        let a = activations(&mut rng, m * k, 0);
        let centered = weights_7bit(&mut rng, k * n);
        let zp_u8: Vec<i32> = (0..n).map(|j| [64, 128, 192][j % 3]).collect();
        let codes_u8: Vec<u8> = (0..k * n)
            .map(|i| (i32::from(centered[i]) + zp_u8[i % n]) as u8)
            .collect();
        let zp_i8 = [60i32];
        let codes_i8: Vec<i8> = centered
            .iter()
            .map(|&c| (i32::from(c) + 60) as i8)
            .collect();
        let want = reference::gemm_i32(&a, 17, &centered, m, k, n);
        for kernel in Kernel::available() {
            for (w, zps) in [
                (Weights::U8(&codes_u8), zp_u8.as_slice()),
                (Weights::I8(&codes_i8), &zp_i8),
            ] {
                let packed = PackedB::quantized(kernel, w, zps, k, n).unwrap();
                assert_eq!(packed.seven_bit(), has_7bit_route(kernel), "{kernel} route");
                let mut out = vec![0i32; m * n];
                gemm_i32(&a, 17u8, &packed, &mut out).unwrap();
                assert!(out == want, "{kernel} {m}x{k}x{n} {w:?}: mismatch");
            }
        }
    }
}

#[test]
fn eight_bit_weights_keep_the_exact_route() {
    let mut rng = Rng::new(2024);
    let (m, k, n) = (33, 70, 41);
    let a = activations(&mut rng, m * k, 0);
    for outlier in [-65i8, 64, -128, 127] {
        let mut b = weights_7bit(&mut rng, k * n);
        b[rng.below(k * n)] = outlier;
        for kernel in Kernel::available() {
            let packed = PackedB::with_kernel(kernel, &b, k, n).unwrap();
            assert!(!packed.seven_bit(), "{kernel}: weight {outlier} is 8-bit");
            let mut out = vec![0i32; m * n];
            gemm_i32(&a, 255u8, &packed, &mut out).unwrap();
            assert!(out == reference::gemm_i32(&a, 255u8, &b, m, k, n));
        }
    }
    // A zero point can push 7-bit-looking codes out of range: 63 - (-2) = 65.
    let b = weights_7bit(&mut rng, k * n);
    let packed = PackedB::quantized(Kernel::best(), Weights::I8(&b), &[-2], k, n).unwrap();
    assert!(!packed.seven_bit());
}

#[test]
fn requantized_output_matches_the_exact_route() {
    let mut rng = Rng::new(99);
    let (m, k, n) = (45, 259, 37);
    let a = activations(&mut rng, m * k, 2);
    let b = weights_7bit(&mut rng, k * n);
    let scales: Vec<f32> = (0..n).map(|j| 0.002 + j as f32 * 1e-4).collect();
    let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.5 - 7.0).collect();
    let acc = reference::gemm_i32(&a, 131, &b, m, k, n);
    let want: Vec<f32> = acc
        .iter()
        .enumerate()
        .map(|(idx, &v)| v as f32 * (0.03 * scales[idx % n]) + bias[idx % n])
        .collect();
    for kernel in Kernel::available() {
        let packed = PackedB::with_kernel(kernel, &b, k, n)
            .unwrap()
            .with_scales(scales.clone())
            .unwrap();
        let mut out = vec![0f32; m * n];
        gemm_requant(&a, 131u8, 0.03, &packed, Some(&bias), &mut out).unwrap();
        assert_eq!(out, want, "{kernel}");
    }
}

/// Shapes for the 6-bit route: odd and even depth-group counts (`k / 4` rounded up), depths
/// that are not multiples of 4 or 8, several k-blocks (256 groups each) with an odd last one,
/// and rows and columns off the 4 x 16 tile.
fn shapes_6bit(rng: &mut Rng) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 4, 16),
        (4, 8, 16),
        (5, 5, 17),
        (3, 9, 15),
        (4, 12, 32),
        (7, 13, 33),
        (9, 516, 31),
        (6, 1031, 18),
        (11, 1021, 47),
        (2, 2047, 5),
        (3, 1028, 20),
        (4, 2052, 17),
    ];
    for _ in 0..50 {
        shapes.push((1 + rng.below(40), 1 + rng.below(300), 1 + rng.below(70)));
    }
    shapes
}

#[test]
fn u8_and_i8_activations_times_6bit_weights_are_exact() {
    let mut rng = Rng::new(0x6B17_5EED_0DD5_0001);
    for (case, shape @ (m, k, n)) in shapes_6bit(&mut rng).into_iter().enumerate() {
        let a = activations(&mut rng, m * k, case);
        let a_i8: Vec<i8> = a.iter().map(|&v| v as i8).collect();
        let b = weights_6bit(&mut rng, k * n);
        for kernel in Kernel::available() {
            for zp in [0u8, 128, 255, rng.next() as u8] {
                check(kernel, &a, zp, &b, shape);
            }
            for zp in [0i8, -128, 127] {
                check(kernel, &a_i8, zp, &b, shape);
            }
        }
    }
}

#[test]
fn extreme_6bit_products_are_exact() {
    // Two groups of 255 * -32 (or 255 * 31) pairs: the largest i16 sums the 6-bit route adds.
    for kernel in Kernel::available() {
        for (k, w) in [(4099, -32i8), (4100, 31), (MAX_K, -32), (MAX_K - 1, 31)] {
            let (m, n) = (5, 19);
            let a = vec![255u8; m * k];
            let b = vec![w; k * n];
            check(kernel, &a, 0, &b, (m, k, n));
            check(kernel, &a, 255, &b, (m, k, n));
            check(kernel, &vec![0u8; m * k], 7, &b, (m, k, n));
        }
        // Activations 0 and 255 against -32 and 31 in every combination and phase.
        let (m, k, n) = (9, 301, 23);
        let a: Vec<u8> = (0..m * k)
            .map(|i| if i % 5 < 2 { 0 } else { 255 })
            .collect();
        let b: Vec<i8> = (0..k * n)
            .map(|i| if i % 3 == 0 { 31 } else { -32 })
            .collect();
        check(kernel, &a, 3, &b, (m, k, n));
        check(kernel, &vec![255u8; m * k], 0, &b, (m, k, n));
        let a_i8: Vec<i8> = a.iter().map(|&v| v as i8).collect();
        check(kernel, &a_i8, -1, &b, (m, k, n));
    }
}

#[test]
fn weights_6bit_after_their_zero_points_take_the_route() {
    // u8 codes around per-column zero points, and i8 codes outside 6 bits whose zero point
    // brings them inside, with both -32 and 31 present after centering.
    let mut rng = Rng::new(4_242);
    for (m, k, n) in [(5, 37, 21), (70, 130, 45), (1, 9, 3), (4, 1030, 16)] {
        let a = activations(&mut rng, m * k, 1);
        let a_i8: Vec<i8> = a.iter().map(|&v| v as i8).collect();
        let centered = weights_6bit(&mut rng, k * n);
        let zp_u8: Vec<i32> = (0..n).map(|j| [32, 128, 224][j % 3]).collect();
        let codes_u8: Vec<u8> = (0..k * n)
            .map(|i| (i32::from(centered[i]) + zp_u8[i % n]) as u8)
            .collect();
        let zp_i8 = [-96i32];
        let codes_i8: Vec<i8> = centered
            .iter()
            .map(|&c| (i32::from(c) - 96) as i8)
            .collect();
        let want_u8 = reference::gemm_i32(&a, 200, &centered, m, k, n);
        let want_i8 = reference::gemm_i32(&a_i8, -5, &centered, m, k, n);
        for kernel in Kernel::available() {
            for (w, zps) in [
                (Weights::U8(&codes_u8), zp_u8.as_slice()),
                (Weights::I8(&codes_i8), &zp_i8),
            ] {
                let packed = PackedB::quantized(kernel, w, zps, k, n).unwrap();
                assert_eq!(packed.six_bit(), has_7bit_route(kernel), "{kernel} route");
                assert_eq!(packed.seven_bit(), has_7bit_route(kernel), "{kernel} route");
                let mut out = vec![0i32; m * n];
                gemm_i32(&a, 200u8, &packed, &mut out).unwrap();
                assert!(out == want_u8, "{kernel} {m}x{k}x{n} {w:?}: mismatch");
                gemm_i32(&a_i8, -5i8, &packed, &mut out).unwrap();
                assert!(out == want_i8, "{kernel} {m}x{k}x{n} {w:?} i8: mismatch");
            }
        }
    }
}

#[test]
fn one_7bit_weight_keeps_6bit_weights_off_the_6bit_route() {
    let mut rng = Rng::new(77);
    for (m, k, n) in [(33, 70, 41), (4, 9, 16)] {
        let a = activations(&mut rng, m * k, 0);
        for outlier in [32i8, -33, 63, -64] {
            let mut b = weights_6bit(&mut rng, k * n);
            b[rng.below(k * n)] = outlier;
            for kernel in Kernel::available() {
                let packed = PackedB::with_kernel(kernel, &b, k, n).unwrap();
                assert!(!packed.six_bit(), "{kernel}: weight {outlier} is 7-bit");
                assert_eq!(packed.seven_bit(), has_7bit_route(kernel), "{kernel} route");
                let mut out = vec![0i32; m * n];
                gemm_i32(&a, 255u8, &packed, &mut out).unwrap();
                assert!(out == reference::gemm_i32(&a, 255u8, &b, m, k, n));
            }
        }
    }
    // A zero point can push 6-bit-looking codes out of range: 31 - (-1) = 32.
    let (k, n) = (40, 9);
    let b = weights_6bit(&mut rng, k * n);
    let packed = PackedB::quantized(Kernel::best(), Weights::I8(&b), &[-1], k, n).unwrap();
    assert!(!packed.six_bit());
    assert_eq!(packed.seven_bit(), has_7bit_route(Kernel::best()));
}

#[test]
fn the_6bit_route_is_exact_on_one_and_several_threads() {
    // Large enough for the driver to split the work (2^21 multiply-adds and up).
    let mut rng = Rng::new(0xA5A5_1234);
    for (m, k, n) in [(200, 515, 270), (97, 1031, 130), (1, 4095, 1500)] {
        let a = activations(&mut rng, m * k, 0);
        let b = weights_6bit(&mut rng, k * n);
        let want = reference::gemm_i32(&a, 9u8, &b, m, k, n);
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for kernel in Kernel::available() {
                let packed = PackedB::with_kernel(kernel, &b, k, n).unwrap();
                assert_eq!(packed.six_bit(), has_7bit_route(kernel), "{kernel} route");
                let mut out = vec![0i32; m * n];
                pool.install(|| gemm_i32(&a, 9u8, &packed, &mut out))
                    .unwrap();
                assert!(
                    out == want,
                    "{kernel} {m}x{k}x{n} on {threads} threads: mismatch"
                );
            }
        }
    }
}
