//! Runs the int8 GEMM in a loop for profiling: `gemm_profile [m k n iterations [bits]]`, with
//! 8-bit weights, or 7-bit ones (`-64..=63`, the AVX2 `vpmaddubsw` route) when `bits` is 7.

use burnish_kernels::{PackedB, gemm_requant};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let (m, k, n, iters, bits) = match args[..] {
        [m, k, n, it] => (m, k, n, it, 8),
        [m, k, n, it, bits] => (m, k, n, it, bits),
        _ => (1024, 1024, 1024, 50, 8),
    };
    let a: Vec<u8> = (0..m * k).map(|i| (i * 7 % 251) as u8).collect();
    let b: Vec<i8> = if bits == 7 {
        (0..k * n).map(|i| (i * 13 % 128) as i8 - 64).collect()
    } else {
        (0..k * n).map(|i| (i * 13 % 255) as u8 as i8).collect()
    };
    let packed = PackedB::new(&b, k, n).expect("pack");
    let mut out = vec![0f32; m * n];
    let t = std::time::Instant::now();
    for _ in 0..iters {
        gemm_requant(&a, 128u8, 0.02, &packed, None, &mut out).expect("gemm");
    }
    let dt = t.elapsed().as_secs_f64() / iters as f64;
    println!(
        "{m}x{k}x{n} ({} route): {:.1} GOPS",
        match (packed.six_bit(), packed.seven_bit()) {
            (true, _) => "6-bit",
            (_, true) => "7-bit",
            _ => "exact",
        },
        2.0 * (m * n * k) as f64 / dt / 1e9
    );
}
