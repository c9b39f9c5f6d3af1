//! Times `PackedLinear::forward` against the `gemm` crate (Burn's GEMM) on the many-row
//! products of transformer layers, at `THREADS` threads (default 1), best of `REPS`.

#[path = "../benches/common/mod.rs"]
mod common;

use burnish_kernels::f32::linear::PackedLinear;

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let threads: usize = std::env::var("THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    for (m, k, n) in [
        (131, 192, 192),
        (131, 192, 768),
        (131, 768, 192),
        (40, 120, 360),
        (40, 120, 240),
        (80, 480, 120),
        (128, 384, 1536),
    ] {
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1)
            .collect();
        let w: Vec<f32> = (0..k * n)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.1)
            .collect();
        let lin = PackedLinear::new(&w, k, n, false).expect("pack");
        let mut out = vec![0f32; m * n];
        let mut out2 = vec![0f32; m * n];
        let flop = 2.0 * (m * n * k) as f64;
        let (a, b) = pool.install(|| {
            let a = common::best_of(reps, || {
                lin.forward(&x, m, &mut out).expect("fits");
            });
            let b = common::best_of(reps, || {
                common::f32_gemm(m, n, k, &x, &w, &mut out2, threads)
            });
            (a, b)
        });
        println!(
            "{m:4}x{k:4}x{n:5}: packed {:7.1} us {:6.1} GF/s   gemm {:7.1} us {:6.1} GF/s",
            a * 1e6,
            flop / a / 1e9,
            b * 1e6,
            flop / b / 1e9
        );
    }
}
