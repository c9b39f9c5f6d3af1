//! Every kernel this CPU runs is bit-exact against the naive integer reference.

mod common;

use burnish_kernels::{
    Kernel, KernelError, MAX_K, OutputQuant, PackedB, gemm_i8i8_i32, gemm_i32, gemm_requant,
    gemm_requant_u8, quantize_u8, reference,
};
use common::Rng;

fn check_i32<A: burnish_kernels::Activation + std::fmt::Debug>(
    kernel: Kernel,
    a: &[A],
    zp: A,
    b: &[i8],
    (m, k, n): (usize, usize, usize),
) {
    let packed = PackedB::with_kernel(kernel, b, k, n).unwrap();
    let mut out = vec![0i32; m * n];
    gemm_i32(a, zp, &packed, &mut out).unwrap();
    let want = reference::gemm_i32(a, zp, b, m, k, n);
    assert!(
        out == want,
        "{kernel} m={m} k={k} n={n} zp={zp:?}: mismatch"
    );
}

fn shapes(rng: &mut Rng) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 1, 33),
        (7, 1, 5),
        (1, 300, 1),
        (6, 4, 16),
        (8, 8, 32),
        (13, 17, 35),
        (1, 1000, 70),
        (97, 3, 129),
        (64, 1024, 48),
        (200, 257, 130),
    ];
    for _ in 0..40 {
        shapes.push((1 + rng.below(70), 1 + rng.below(130), 1 + rng.below(80)));
    }
    shapes
}

#[test]
fn scalar_is_always_available_and_best_is_supported() {
    let available = Kernel::available();
    assert_eq!(available.last(), Some(&Kernel::Scalar));
    assert!(Kernel::best().is_supported());
    for kernel in Kernel::ALL {
        assert_eq!(Kernel::from_name(kernel.name()), Some(kernel));
        assert_eq!(kernel.require().is_ok(), kernel.is_supported());
    }
    eprintln!(
        "kernels on this CPU: {available:?}, best {}",
        Kernel::best()
    );
}

#[test]
fn u8_activations_with_zero_points_are_exact() {
    for kernel in Kernel::available() {
        let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
        for (case, shape @ (m, k, n)) in shapes(&mut rng).into_iter().enumerate() {
            let a = rng.bytes(m * k, case);
            let b = rng.weights(k * n, case + 1);
            for zp in [0u8, 128, 255, rng.next() as u8] {
                check_i32(kernel, &a, zp, &b, shape);
            }
        }
    }
}

#[test]
fn i8_activations_are_exact() {
    for kernel in Kernel::available() {
        let mut rng = Rng::new(12345);
        for (case, shape @ (m, k, n)) in shapes(&mut rng).into_iter().enumerate() {
            let a: Vec<i8> = rng.weights(m * k, case + 2);
            let b = rng.weights(k * n, case);
            for zp in [0i8, -128, 127, rng.next() as i8] {
                check_i32(kernel, &a, zp, &b, shape);
            }
            let packed = PackedB::with_kernel(kernel, &b, k, n).unwrap();
            let mut out = vec![0i32; m * n];
            gemm_i8i8_i32(&a, &packed, &mut out).unwrap();
            assert_eq!(out, reference::gemm_i32(&a, 0, &b, m, k, n));
        }
    }
}

#[test]
fn extreme_values_at_large_depth_are_exact() {
    // All-255 activations times all -128 (and 127) weights: the worst case for vpmaddubsw
    // saturation and the largest magnitude i32 sums the kernels accept.
    for kernel in Kernel::available() {
        // 7 rows: one panel; 1 and 9: a panel with one real row (the matrix-vector routine).
        for (k, w) in [(4099, -128i8), (4099, 127), (MAX_K, -128)] {
            for (m, n) in [(7, 19), (1, 40), (9, 33)] {
                let a = vec![255u8; m * k];
                let b = vec![w; k * n];
                check_i32(kernel, &a, 0, &b, (m, k, n));
                check_i32(kernel, &a, 255, &b, (m, k, n));
            }
        }
    }
}

#[test]
fn large_parallel_shape_is_exact() {
    let mut rng = Rng::new(77);
    let (m, k, n) = (300, 515, 270);
    let a = rng.bytes(m * k, 0);
    let b = rng.weights(k * n, 0);
    for kernel in Kernel::available() {
        check_i32(kernel, &a, 131, &b, (m, k, n));
    }
}

#[test]
fn requantized_outputs_follow_the_documented_formula() {
    let mut rng = Rng::new(4242);
    for kernel in Kernel::available() {
        for (m, k, n) in [(1, 64, 10), (37, 129, 45), (130, 70, 33)] {
            let a = rng.bytes(m * k, 0);
            let b = rng.weights(k * n, 0);
            let scales: Vec<f32> = (0..n).map(|j| 0.001 + j as f32 * 1e-4).collect();
            let bias: Vec<f32> = (0..n).map(|j| j as f32 * 0.25 - 3.0).collect();
            let packed = PackedB::with_kernel(kernel, &b, k, n)
                .unwrap()
                .with_scales(scales.clone())
                .unwrap();
            let (zp, a_scale) = (97u8, 0.05f32);
            let acc = reference::gemm_i32(&a, zp, &b, m, k, n);
            let want: Vec<f32> = acc
                .iter()
                .enumerate()
                .map(|(idx, &v)| v as f32 * (a_scale * scales[idx % n]) + bias[idx % n])
                .collect();
            let mut out = vec![0f32; m * n];
            gemm_requant(&a, zp, a_scale, &packed, Some(&bias), &mut out).unwrap();
            assert_eq!(out, want, "{kernel} f32 epilogue");

            let oq = OutputQuant {
                scale: 0.02,
                zero_point: 100,
            };
            let mut out8 = vec![0u8; m * n];
            gemm_requant_u8(&a, zp, a_scale, &packed, Some(&bias), oq, &mut out8).unwrap();
            let want8: Vec<u8> = want.iter().map(|&x| quantize_u8(x, oq)).collect();
            assert_eq!(out8, want8, "{kernel} u8 epilogue");
        }
    }
}

#[test]
fn quantize_u8_rounds_half_to_even_and_saturates() {
    let oq = OutputQuant {
        scale: 1.0,
        zero_point: 10,
    };
    assert_eq!(quantize_u8(2.5, oq), 12);
    assert_eq!(quantize_u8(3.5, oq), 14);
    assert_eq!(quantize_u8(-100.0, oq), 0);
    assert_eq!(quantize_u8(1e9, oq), 255);
}

#[test]
fn bad_arguments_are_reported() {
    assert!(matches!(
        PackedB::new(&[1, 2, 3], 2, 2),
        Err(KernelError::Length { what: "b", .. })
    ));
    assert!(matches!(
        PackedB::new(&[], 0, 2),
        Err(KernelError::DepthOutOfRange { .. })
    ));
    let packed = PackedB::new(&[1, 2, 3, 4], 2, 2).unwrap();
    let mut out = vec![0i32; 2];
    assert!(gemm_i32(&[1u8, 2, 3], 0, &packed, &mut out).is_err());
    assert!(gemm_i32(&[1u8, 2, 3, 4], 0, &packed, &mut out).is_err());
    let mut outf = vec![0f32; 2];
    assert!(matches!(
        gemm_requant(&[1u8, 2], 0, 0.0, &packed, None, &mut outf),
        Err(KernelError::Scale { .. })
    ));
    assert!(packed.clone().with_scales(vec![1.0]).is_err());
    // Zero rows is a valid, empty product.
    gemm_i32::<u8>(&[], 0, &packed, &mut []).unwrap();
}
