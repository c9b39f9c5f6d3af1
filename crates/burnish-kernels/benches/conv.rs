//! Int8 convolution (`conv2d_int8`: im2col on the int8 GEMM, u8 activations, f32 dequantized
//! output) against an f32 convolution built the same way (im2col plus the `gemm` crate's f32
//! GEMM, which Burn flex uses), same shapes, same run, one rayon thread and two.
//! Throughput is reported as elements = 2 * MACs, i.e. GOPS / GFLOPS.
//!
//! Then the direct int8 convolution (`conv2d_direct`, no im2col, requantized u8 output) against
//! the im2col one (`conv2d_qlinear`, same output) on resnet_nchw's layer shapes, batch 1 and 8,
//! one thread (group `resnet_<layer>_b<batch>`); `direct_7bit_weights` runs the same shapes
//! with weights in -64..=63, which `conv2d_direct` serves with its `vpmaddubsw` kernel.
//!
//! `cargo bench -p burnish-kernels --bench conv [-- --quick] [resnet]`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use burnish_kernels::{
    Conv2dParams, DirectConv, DirectOutput, Kernel, OutputScale, PackedConv, QuantizedInput,
    Requant, Requantize, Weights, conv2d_direct, conv2d_int8, conv2d_qlinear,
};
use common::{f32_gemm, pattern};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// `(name, [n, c, h, w], out channels, kernel size, padding)`: a ResNet 3x3 layer and a 1x1
/// bottleneck projection.
const CASES: [(&str, [usize; 4], usize, usize, usize); 2] = [
    ("3x3_64ch_56px", [1, 64, 56, 56], 64, 3, 1),
    ("1x1_256to64_28px", [1, 256, 28, 28], 64, 1, 0),
];

/// Stride-1 im2col of one image: `[c * k * k, h_out * w_out]`, row-major.
fn im2col(x: &[f32], [c, h, w]: [usize; 3], k: usize, pad: usize, cols: &mut [f32]) {
    let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
    for ch in 0..c {
        for ky in 0..k {
            for kx in 0..k {
                let row = &mut cols[((ch * k + ky) * k + kx) * ho * wo..][..ho * wo];
                for oy in 0..ho {
                    let iy = (oy + ky) as isize - pad as isize;
                    for ox in 0..wo {
                        let ix = (ox + kx) as isize - pad as isize;
                        let inside = (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                        row[oy * wo + ox] = if inside {
                            x[(ch * h + iy as usize) * w + ix as usize]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    for (name, [n, ch, h, w], oc, k, pad) in CASES {
        let (ho, wo) = (h + 2 * pad - k + 1, w + 2 * pad - k + 1);
        let kk = ch * k * k;
        let x8: Vec<u8> = pattern(n * ch * h * w, 7).map(|v| v as u8).collect();
        let w8: Vec<i8> = pattern(oc * kk, 11).map(|v| (v % 255) as i8).collect();
        let xf: Vec<f32> = x8.iter().map(|&v| f32::from(v) / 255.0).collect();
        let wf: Vec<f32> = w8.iter().map(|&v| f32::from(v) / 127.0).collect();
        let packed = PackedConv::new(&w8, [oc, ch, k, k], 1).expect("pack");
        let params = Conv2dParams {
            pads: [pad; 4],
            ..Conv2dParams::default()
        };
        let bias = vec![0.5f32; oc];
        let mut out = vec![0f32; n * oc * ho * wo];
        let mut cols = vec![0f32; kk * ho * wo];
        let mut group = c.benchmark_group(format!("conv_{name}"));
        group.throughput(Throughput::Elements((2 * n * oc * ho * wo * kk) as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("rayon pool");
            group.bench_function(BenchmarkId::new("f32_im2col_gemm", threads), |b| {
                pool.install(|| {
                    b.iter(|| {
                        for img in 0..n {
                            im2col(&xf[img * ch * h * w..], [ch, h, w], k, pad, &mut cols);
                            let dst = &mut out[img * oc * ho * wo..][..oc * ho * wo];
                            f32_gemm(oc, ho * wo, kk, black_box(&wf), &cols, dst, threads);
                        }
                    })
                })
            });
            group.bench_function(BenchmarkId::new("int8_conv2d_f32_out", threads), |b| {
                pool.install(|| {
                    b.iter(|| {
                        let input = QuantizedInput {
                            data: black_box(&x8[..]),
                            shape: [n, ch, h, w],
                            zero_point: 128u8,
                            scale: 0.02,
                        };
                        conv2d_int8(input, &packed, &params, Some(&bias), &mut out).expect("conv")
                    })
                })
            });
        }
        group.finish();
    }
}

/// `(name, [c, h, w], out channels, kernel, stride, pad)`.
type Layer = (&'static str, [usize; 3], usize, usize, usize, usize);

/// resnet_nchw's convolutions.
const RESNET: [Layer; 5] = [
    ("stem_3ch_64px_s2", [3, 64, 64], 16, 3, 2, 1),
    ("3x3_16ch_32px", [16, 32, 32], 16, 3, 1, 1),
    ("3x3_16to32ch_32px_s2", [16, 32, 32], 32, 3, 2, 1),
    ("3x3_32ch_16px", [32, 16, 16], 32, 3, 1, 1),
    ("3x3_64ch_8px", [64, 8, 8], 64, 3, 1, 1),
];

fn bench_resnet(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("rayon pool");
    for (name, [ch, h, w], oc, k, s, pad) in RESNET {
        for n in [1usize, 8] {
            let (ho, wo) = ((h + 2 * pad - k) / s + 1, (w + 2 * pad - k) / s + 1);
            let x8: Vec<u8> = pattern(n * ch * h * w, 7).map(|v| v as u8).collect();
            let w8: Vec<i8> = pattern(oc * ch * k * k, 11)
                .map(|v| (v % 255) as i8)
                .collect();
            let params = Conv2dParams {
                stride: [s, s],
                pads: [pad; 4],
                dilation: [1, 1],
            };
            let im2col =
                PackedConv::with_kernel(Kernel::best(), &w8, [oc, ch, k, k], 1).expect("pack");
            let direct = DirectConv::new(Weights::I8(&w8), &[0], [oc, ch, k, k], 1).expect("pack");
            // 7-bit weights: the vpmaddubsw kernel.
            let w7: Vec<i8> = w8.iter().map(|&v| v / 2).collect();
            let direct7 = DirectConv::new(Weights::I8(&w7), &[0], [oc, ch, k, k], 1).expect("pack");
            let multiplier = vec![1e-4f32; oc];
            let bias = vec![100i32; oc];
            let input = QuantizedInput {
                data: &x8[..],
                shape: [n, ch, h, w],
                zero_point: 128u8,
                scale: 0.02,
            };
            let mut out = vec![0u8; n * oc * ho * wo];
            let mut group = c.benchmark_group(format!("resnet_{name}_b{n}"));
            group.throughput(Throughput::Elements(
                (2 * n * oc * ho * wo * ch * k * k) as u64,
            ));
            group.sample_size(20);
            group.warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(1));
            group.bench_function("im2col_qlinear", |b| {
                pool.install(|| {
                    b.iter(|| {
                        let rq = Requant {
                            multiplier: &multiplier,
                            bias: Some(&bias),
                            zero_point: 0,
                            min: 0,
                            max: 255,
                        };
                        conv2d_qlinear(black_box(input), &im2col, &params, &rq, &mut out)
                            .expect("conv")
                    })
                })
            });
            for (label, packed) in [("direct", &direct), ("direct_7bit_weights", &direct7)] {
                group.bench_function(label, |b| {
                    pool.install(|| {
                        b.iter(|| {
                            let rq = Requantize::<u8> {
                                scale: OutputScale::Int {
                                    multiplier: &multiplier,
                                    bias: Some(&bias),
                                },
                                zero_point: 0,
                                min: 0,
                                max: 255,
                                residual: None,
                            };
                            let o = DirectOutput::U8(&mut out, rq);
                            conv2d_direct(black_box(input), packed, &params, o).expect("conv")
                        })
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench_resnet, bench);
criterion_main!(benches);
