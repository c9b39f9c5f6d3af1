//! Times `f32::linear::PackedLinear::forward` (one thread) on the few-row products of real
//! models (an unrolled LSTM's input and recurrent projections, batch-1 dense layers), printing
//! GFLOP/s and the weight bytes streamed per second. `cargo run --release -p burnish-kernels
//! --example packed_linear [REPS]`

use std::time::Instant;

use burnish_kernels::f32::linear::PackedLinear;

/// `(m, k, n)`.
const SHAPES: [(usize, usize, usize); 8] = [
    (1, 4096, 400),
    (4, 4096, 400),
    (20, 4096, 400),
    (1, 100, 400),
    (1, 384, 1536),
    (8, 384, 1536),
    (16, 1024, 1024),
    (32, 4096, 400),
];

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("pool");
    for (m, k, n) in SHAPES {
        let w: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.1).collect();
        let packed = PackedLinear::new(&w, k, n, true).expect("pack");
        let x: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.1).collect();
        let mut out = vec![0f32; m * n];
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                packed.forward(&x, m, &mut out).expect("forward");
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let flops = 2.0 * (m * k * n) as f64;
        println!(
            "{m:>3}x{k:>5}x{n:>5}: {:>8.1} us {:>6.1} GFLOP/s {:>6.1} GB/s of weight",
            best * 1e6,
            flops / best / 1e9,
            (k * n * 4) as f64 / best / 1e9
        );
    }
}
