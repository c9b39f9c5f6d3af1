//! Int8 GEMM (fastest kernel, u8 activations, f32 dequantized output) against the f32 GEMM
//! Burn flex uses (`gemm` crate), same shapes, same run, on 1 and 2 rayon threads.
//! Throughput is reported as elements = 2 * m * n * k, i.e. GOPS / GFLOPS.
//!
//! `int8_requant_f32` uses 8-bit weights (the exact route on AVX2), `int8_7bit` weights in
//! `-64..=63`, which AVX2 CPUs without VNNI run on the `vpmaddubsw` route, `int8_6bit` weights
//! in `-32..=31`, which they run on the paired `vpmaddubsw` route (two groups summed in i16).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use burnish_kernels::{Kernel, PackedB, gemm_requant};
use common::{f32_gemm, pattern};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SHAPES: [(usize, usize, usize); 3] = [(256, 256, 256), (512, 768, 768), (1024, 1024, 1024)];

fn bench(c: &mut Criterion) {
    eprintln!("int8 kernel: {}", Kernel::best());
    for (m, k, n) in SHAPES {
        let a8: Vec<u8> = pattern(m * k, 7).map(|v| v as u8).collect();
        let b8: Vec<i8> = pattern(k * n, 11).map(|v| (v % 255) as i8).collect();
        let packed = PackedB::new(&b8, k, n).expect("pack");
        let b7: Vec<i8> = pattern(k * n, 13).map(|v| (v % 128) as i8 - 64).collect();
        let packed7 = PackedB::new(&b7, k, n).expect("pack");
        let b6: Vec<i8> = pattern(k * n, 17).map(|v| (v % 64) as i8 - 32).collect();
        let packed6 = PackedB::new(&b6, k, n).expect("pack");
        eprintln!(
            "7-bit weights on the 7-bit route: {}, 6-bit weights on the 6-bit route: {}",
            packed7.seven_bit(),
            packed6.six_bit()
        );
        let bias = vec![0.5f32; n];
        let af: Vec<f32> = a8.iter().map(|&v| f32::from(v) / 255.0).collect();
        let bf: Vec<f32> = b8.iter().map(|&v| f32::from(v) / 127.0).collect();
        let mut out = vec![0f32; m * n];
        let mut group = c.benchmark_group(format!("gemm_{m}x{k}x{n}"));
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        group.sample_size(10);
        group.warm_up_time(std::time::Duration::from_millis(500));
        group.measurement_time(std::time::Duration::from_secs(2));
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("rayon pool");
            group.bench_function(BenchmarkId::new("f32_gemm_crate", threads), |bch| {
                pool.install(|| {
                    bch.iter(|| {
                        f32_gemm(m, n, k, black_box(&af), black_box(&bf), &mut out, threads)
                    })
                })
            });
            group.bench_function(BenchmarkId::new("int8_requant_f32", threads), |bch| {
                pool.install(|| {
                    bch.iter(|| {
                        gemm_requant(black_box(&a8), 128u8, 0.02, &packed, Some(&bias), &mut out)
                            .expect("gemm")
                    })
                })
            });
            group.bench_function(BenchmarkId::new("int8_7bit", threads), |bch| {
                pool.install(|| {
                    bch.iter(|| {
                        gemm_requant(black_box(&a8), 128u8, 0.02, &packed7, Some(&bias), &mut out)
                            .expect("gemm")
                    })
                })
            });
            group.bench_function(BenchmarkId::new("int8_6bit", threads), |bch| {
                pool.install(|| {
                    bch.iter(|| {
                        gemm_requant(black_box(&a8), 128u8, 0.02, &packed6, Some(&bias), &mut out)
                            .expect("gemm")
                    })
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
