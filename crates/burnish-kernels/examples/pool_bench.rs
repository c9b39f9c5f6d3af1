//! Times the f32 pools, and the u8 max pool of int8 graphs, (one thread) on real-model layer
//! shapes: SqueezeNet's, ShuffleNet's and
//! ResNet's 3x3 stride-2 max pools, ShuffleNet's 3x3 stride-2 average pool, Inception's 3x3
//! stride-1 max pools and YOLOX's 5/9/13 SPP max pools.
//! `cargo run --release -p burnish-kernels --example pool_bench [REPS]`

use std::time::Instant;

use burnish_kernels::f32::pool::{PoolAxis, avg_pool2d, max_pool2d};
use burnish_kernels::pool_u8::max_pool2d_u8;

/// `(planes, height/width, kernel, stride, pad, average)`.
const SHAPES: [(usize, usize, usize, usize, usize, bool); 12] = [
    (96, 109, 3, 2, 0, false),
    (24, 112, 3, 2, 1, false),
    (136, 28, 3, 2, 1, true),
    (64, 111, 3, 2, 0, false),
    (128, 55, 3, 2, 0, false),
    (256, 27, 3, 2, 0, false),
    (64, 112, 3, 2, 1, false),
    (192, 27, 3, 1, 1, false),
    (512, 13, 3, 1, 1, false),
    (192, 13, 5, 1, 2, false),
    (192, 13, 9, 1, 4, false),
    (192, 13, 13, 1, 6, false),
];

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    for (planes, size, k, s, p, avg) in SHAPES {
        let out = (size + 2 * p - k) / s + 1;
        let axis = PoolAxis {
            input: size,
            output: out,
            kernel: k,
            stride: s,
            dilation: 1,
            pad: p,
            pad_end: p,
        };
        let x: Vec<f32> = (0..planes * size * size)
            .map(|i| (i % 17) as f32 * 0.3)
            .collect();
        let mut y = vec![0f32; planes * out * out];
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                if avg {
                    avg_pool2d(&x, planes, axis, axis, false, &mut y).expect("pool");
                } else {
                    max_pool2d(&x, planes, axis, axis, &mut y).expect("pool");
                }
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let kind = if avg { "avg" } else { "max" };
        let codes = if avg {
            String::new()
        } else {
            let x: Vec<u8> = x.iter().map(|&v| (v * 10.0) as u8).collect();
            let mut y = vec![0u8; planes * out * out];
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..reps {
                    max_pool2d_u8(&x, planes, axis, axis, false, &mut y).expect("pool");
                }
                best = best.min(t.elapsed().as_secs_f64() / reps as f64);
            }
            format!("   u8 {:8.1} us", best * 1e6)
        };
        println!(
            "{kind} {planes:>4}x{size}x{size} k{k} s{s} p{p}: {:8.1} us{codes}",
            best * 1e6
        );
    }
}
