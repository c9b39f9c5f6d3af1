//! Int8 vs f32 GEMM throughput, robust to a shared machine: both run interleaved, best of N.
//!
//! `cargo run --release -p burnish-kernels --example gemm_ratio [reps] [max shapes]` prints
//! GOPS / GFLOPS (2 * m * n * k per second) and the int8 / f32 ratio per shape and thread
//! count, for 8-bit weights, 7-bit weights (`-64..=63`, the `vpmaddubsw` route on AVX2 without
//! VNNI) and 6-bit weights (`-32..=31`, the paired `vpmaddubsw` route). The criterion
//! bench (`benches/gemm.rs`) reports distributions; this reports the fastest run of each, which
//! is the fairer comparison when other processes share the cores.

#[path = "../benches/common/mod.rs"]
mod common;

use burnish_kernels::{Kernel, PackedB, gemm_requant};
use common::f32_gemm;

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    println!("int8 kernel: {}, best of {reps}", Kernel::best());
    let probe = |lo: i8, hi: i8| {
        let w: Vec<i8> = (lo..=hi).collect();
        PackedB::new(&w, w.len(), 1).expect("pack")
    };
    let (p7, p6) = (probe(-64, 63), probe(-32, 31));
    println!(
        "routes: 7-bit weights seven_bit={}, 6-bit weights six_bit={}",
        p7.seven_bit(),
        p6.six_bit()
    );
    let max_shapes: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    println!(
        "shape            threads  f32 GFLOPS  int8 GOPS  ratio  7-bit GOPS  ratio  6-bit GOPS  ratio"
    );
    let shapes = [
        (256, 256, 256),
        (512, 768, 768),
        (1024, 1024, 1024),
        (1, 4096, 4096),
        (8, 4096, 4096),
        (64, 576, 64),
        (196, 1152, 128),
    ];
    for (m, k, n) in shapes.into_iter().take(max_shapes) {
        let a8: Vec<u8> = (0..m * k).map(|i| (i * 7 % 251) as u8).collect();
        let b8: Vec<i8> = (0..k * n).map(|i| (i * 13 % 255) as u8 as i8).collect();
        let packed = PackedB::new(&b8, k, n).expect("pack");
        let b7: Vec<i8> = (0..k * n).map(|i| (i * 13 % 128) as i8 - 64).collect();
        let packed7 = PackedB::new(&b7, k, n).expect("pack");
        let b6: Vec<i8> = (0..k * n).map(|i| (i * 13 % 64) as i8 - 32).collect();
        let packed6 = PackedB::new(&b6, k, n).expect("pack");
        let af: Vec<f32> = a8.iter().map(|&v| f32::from(v) / 255.0).collect();
        let bf: Vec<f32> = b8.iter().map(|&v| f32::from(v) / 127.0).collect();
        let bias = vec![0.5f32; n];
        let mut out = vec![0f32; m * n];
        let ops = 2.0 * (m * n * k) as f64;
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("rayon pool");
            let [mut tf, mut ti, mut t7, mut t6] = [f64::INFINITY; 4];
            pool.install(|| {
                for _ in 0..3 {
                    tf = tf.min(common::best_of(reps / 3, || {
                        f32_gemm(m, n, k, &af, &bf, &mut out, threads)
                    }));
                    ti = ti.min(common::best_of(reps / 3, || {
                        gemm_requant(&a8, 128u8, 0.02, &packed, Some(&bias), &mut out)
                            .expect("gemm")
                    }));
                    t7 = t7.min(common::best_of(reps / 3, || {
                        gemm_requant(&a8, 128u8, 0.02, &packed7, Some(&bias), &mut out)
                            .expect("gemm")
                    }));
                    t6 = t6.min(common::best_of(reps / 3, || {
                        gemm_requant(&a8, 128u8, 0.02, &packed6, Some(&bias), &mut out)
                            .expect("gemm")
                    }));
                }
            });
            println!(
                "{:<16} {threads:>7}  {:>10.1}  {:>9.1}  {:>5.2}  {:>10.1}  {:>5.2}  {:>10.1}  {:>5.2}",
                format!("{m}x{k}x{n}"),
                ops / tf / 1e9,
                ops / ti / 1e9,
                tf / ti,
                ops / t7 / 1e9,
                tf / t7,
                ops / t6 / 1e9,
                tf / t6
            );
        }
    }
}
