//! Times the f32 convolution (`f32::conv::conv2d`, one thread, or `THREADS`) on layer shapes of the real
//! models where burnish trails onnxruntime most (SqueezeNet, the CRNN, ShuffleNet), printing
//! GFLOP/s per shape. `cargo run --release -p burnish-kernels --example f32_conv [REPS]`;
//! `SHAPE=in,out,kernel,stride,pad,h,w,groups` times that one shape instead.

use std::time::Instant;

use burnish_kernels::Conv2dParams;
use burnish_kernels::f32::conv::{
    Conv2dGeometry, Epilogue, PackedConvWeights, conv2d, conv2d_uninit,
};

/// `(in, out, kernel, stride, pad, h, w, groups)`.
type Shape = (usize, usize, usize, usize, usize, usize, usize, usize);

const SHAPES: [Shape; 12] = [
    (512, 1000, 1, 1, 0, 13, 13, 1),
    (3, 64, 3, 2, 0, 224, 224, 1),
    (64, 16, 1, 1, 0, 55, 55, 1),
    (16, 64, 3, 1, 1, 55, 55, 1),
    (64, 256, 1, 1, 0, 15, 40, 1),
    (64, 64, 3, 1, 1, 15, 40, 1),
    (128, 128, 3, 1, 1, 8, 20, 1),
    (240, 240, 1, 1, 0, 28, 28, 3),
    (112, 112, 3, 2, 1, 56, 56, 112),
    (136, 136, 3, 1, 1, 28, 28, 136),
    (96, 96, 3, 1, 1, 52, 52, 1),
    (48, 96, 3, 2, 1, 104, 104, 1),
];

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    rayon::ThreadPoolBuilder::new()
        .num_threads(
            std::env::var("THREADS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1),
        )
        .build_global()
        .expect("pool");
    let only: Option<usize> = std::env::var("ONLY").ok().and_then(|s| s.parse().ok());
    let custom: Option<Shape> = std::env::var("SHAPE").ok().map(|s| {
        let v: Vec<usize> = s
            .split(',')
            .map(|x| x.parse().expect("SHAPE value"))
            .collect();
        assert_eq!(v.len(), 8, "SHAPE=in,out,kernel,stride,pad,h,w,groups");
        (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
    });
    let shapes: Vec<Shape> = custom.map_or(SHAPES.to_vec(), |s| vec![s]);
    for (i, &(ic, oc, k, s, p, h, w, groups)) in shapes.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let geo = Conv2dGeometry {
            batch: 1,
            in_channels: ic,
            input: [h, w],
            out_channels: oc,
            kernel: [k, k],
            window: Conv2dParams {
                stride: [s, s],
                pads: [p; 4],
                dilation: [1, 1],
            },
            groups,
        };
        let wts: Vec<f32> = (0..oc * ic / groups * k * k)
            .map(|i| (i % 7) as f32 * 0.1)
            .collect();
        let packed =
            PackedConvWeights::new(&wts, [oc, ic / groups, k, k], groups, None).expect("pack");
        let x: Vec<f32> = (0..ic * h * w).map(|i| (i % 13) as f32 * 0.1).collect();
        let mut out = vec![0f32; geo.output_len().expect("shape")];
        let epi = Epilogue::default();
        conv2d(&x, &geo, &packed, &epi, &mut out).expect("conv");
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                conv2d(&x, &geo, &packed, &epi, &mut out).expect("conv");
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let fresh = std::env::var_os("FRESH").is_some();
        if fresh {
            best = f64::INFINITY;
            for _ in 0..5 {
                let t = Instant::now();
                for _ in 0..reps {
                    let mut o: Vec<f32> = Vec::with_capacity(out.len());
                    conv2d_uninit(
                        &x,
                        &geo,
                        &packed,
                        &epi,
                        &mut o.spare_capacity_mut()[..out.len()],
                    )
                    .expect("conv");
                    // SAFETY: conv2d_uninit wrote every value.
                    unsafe { o.set_len(out.len()) };
                    std::hint::black_box(&o);
                }
                best = best.min(t.elapsed().as_secs_f64() / reps as f64);
            }
        }
        let [oh, ow] = geo.output().expect("shape");
        let flops = 2.0 * (oc * ic / groups * k * k * oh * ow) as f64;
        println!(
            "{ic:>4}->{oc:<4} {k}x{k} s{s} g{groups} {h}x{w}: {:8.1} us  {:6.1} GFLOP/s",
            best * 1e6,
            flops / best / 1e9
        );
    }
}
