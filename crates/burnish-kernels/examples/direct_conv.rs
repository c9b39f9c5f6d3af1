//! Times the direct int8 convolution (`conv2d_direct`, requantized u8 output, one thread) on
//! the convolution shapes of a real CRNN (captcha_crnn: 1x1 and 3x3 layers at 15x40 and 8x20),
//! printing G multiply-adds per second per shape: a quick look at which shapes the kernels
//! serve badly. `cargo run --release -p burnish-kernels --example direct_conv [REPS]`;
//! `SHAPE=in,out,kernel,stride,pad,h,w,groups` times that one shape instead, and `THREADS=N`
//! sets the threads (default 1).

use std::time::Instant;

use burnish_kernels::{
    Conv2dParams, DirectConv, DirectOutput, OutputScale, QuantizedInput, Requantize, Weights,
    conv2d_direct,
};

/// `(in channels, out channels, kernel, stride, pad, h, w, groups)`.
type Shape = (usize, usize, usize, usize, usize, usize, usize, usize);

const SHAPES: [Shape; 10] = [
    (64, 256, 1, 1, 0, 15, 40, 1),
    (64, 256, 1, 1, 0, 15, 48, 1),
    (256, 256, 1, 1, 0, 15, 48, 1),
    (256, 64, 1, 1, 0, 15, 40, 1),
    (64, 64, 3, 1, 1, 15, 40, 1),
    (128, 512, 1, 1, 0, 8, 20, 1),
    (128, 128, 3, 1, 1, 8, 20, 1),
    (64, 64, 3, 1, 1, 56, 56, 1),
    // ShuffleNet's depthwise 3x3 layers.
    (136, 136, 3, 1, 1, 28, 28, 136),
    (112, 112, 3, 2, 1, 56, 56, 112),
];

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let threads = std::env::var("THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("pool");
    let custom: Option<Shape> = std::env::var("SHAPE").ok().map(|s| {
        let v: Vec<usize> = s
            .split(',')
            .map(|x| x.parse().expect("SHAPE value"))
            .collect();
        assert_eq!(v.len(), 8, "SHAPE=in,out,kernel,stride,pad,h,w,groups");
        (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
    });
    let shapes: Vec<Shape> = custom.map_or(SHAPES.to_vec(), |s| vec![s]);
    for (ic, oc, k, s, p, h, w, g) in shapes {
        let icg = ic / g;
        let wts: Vec<i8> = (0..oc * icg * k * k)
            .map(|i| (i * 37 % 255) as i8)
            .collect();
        let x: Vec<u8> = (0..ic * h * w).map(|i| (i * 13 % 256) as u8).collect();
        let packed = DirectConv::new(Weights::I8(&wts), &[0], [oc, icg, k, k], g).expect("pack");
        let params = Conv2dParams {
            stride: [s, s],
            pads: [p, p, p, p],
            ..Conv2dParams::default()
        };
        let out_shape = packed.output_shape([1, ic, h, w], &params).expect("shape");
        let mut out = vec![0u8; out_shape.iter().product()];
        let (multiplier, bias) = (vec![1e-4f32; oc], vec![100i32; oc]);
        let run = |out: &mut [u8]| {
            let input = QuantizedInput {
                data: &x[..],
                shape: [1, ic, h, w],
                zero_point: 128u8,
                scale: 0.02,
            };
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
            conv2d_direct(input, &packed, &params, DirectOutput::U8(out, rq)).expect("conv");
        };
        run(&mut out);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps {
                run(&mut out);
            }
            best = best.min(t.elapsed().as_secs_f64() / reps as f64);
        }
        let macs = (oc * icg * k * k * out_shape[2] * out_shape[3]) as f64;
        println!(
            "{ic:>4}->{oc:<4} {k}x{k} s{s} {h}x{w} g{g}: {:8.1} us  {:6.1} GMAC/s",
            best * 1e6,
            macs / best / 1e9
        );
    }
}
