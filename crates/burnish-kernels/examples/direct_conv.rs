//! Times the direct int8 convolution (`conv2d_direct`, requantized u8 output, one thread) on
//! the convolution shapes of a real CRNN (captcha_crnn: 1x1 and 3x3 layers at 15x40 and 8x20),
//! printing G multiply-adds per second per shape: a quick look at which shapes the kernels
//! serve badly. `cargo run --release -p burnish-kernels --example direct_conv [REPS]`

use std::time::Instant;

use burnish_kernels::{
    Conv2dParams, DirectConv, DirectOutput, OutputScale, QuantizedInput, Requantize, Weights,
    conv2d_direct,
};

/// `(in channels, out channels, kernel, stride, pad, h, w)`.
type Shape = (usize, usize, usize, usize, usize, usize, usize);

const SHAPES: [Shape; 8] = [
    (64, 256, 1, 1, 0, 15, 40),
    (64, 256, 1, 1, 0, 15, 48),
    (256, 256, 1, 1, 0, 15, 48),
    (256, 64, 1, 1, 0, 15, 40),
    (64, 64, 3, 1, 1, 15, 40),
    (128, 512, 1, 1, 0, 8, 20),
    (128, 128, 3, 1, 1, 8, 20),
    (64, 64, 3, 1, 1, 56, 56),
];

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("pool");
    for (ic, oc, k, s, p, h, w) in SHAPES {
        let wts: Vec<i8> = (0..oc * ic * k * k).map(|i| (i * 37 % 255) as i8).collect();
        let x: Vec<u8> = (0..ic * h * w).map(|i| (i * 13 % 256) as u8).collect();
        let packed = DirectConv::new(Weights::I8(&wts), &[0], [oc, ic, k, k], 1).expect("pack");
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
        let macs = (oc * ic * k * k * out_shape[2] * out_shape[3]) as f64;
        println!(
            "{ic:>4}->{oc:<4} {k}x{k} s{s} {h}x{w}: {:8.1} us  {:6.1} GMAC/s",
            best * 1e6,
            macs / best / 1e9
        );
    }
}
