//! The direct convolution against a plain i64 convolution (with per-channel weight zero
//! points) and independent requantization references, over strides, dilations, asymmetric
//! pads, groups, depthwise, odd channel counts, narrow and ragged widths, u8/i8 activations,
//! u8/i8 outputs, Relu/Clip bounds and the residual; VNNI, AVX2 and portable kernels alike.

use super::epilogue::{I32Sink, OutPtr, QuantSink};
use super::layout::Lane;
use super::test_cases::{Case, Rng, fixed_cases, random_case};
use super::*;
use crate::{Weights, requantize};

/// The kernel routes this CPU can run: portable, AVX2 (`vpmaddwd`/`vpmaddubsw`), VNNI.
fn isas() -> Vec<Isa> {
    let detected = Isa::detected();
    let mut all = vec![Isa {
        avx2: false,
        vnni: false,
    }];
    if detected.avx2 {
        all.push(Isa {
            avx2: true,
            vnni: false,
        });
    }
    if detected.vnni {
        all.push(detected);
    }
    all
}

/// Fills this thread's reusable layout and gather buffers with random values, so a call that
/// read a value it did not write (padding, data) would differ from the reference.
fn poison(rng: &mut Rng) {
    let len = 1 << 18;
    let bytes = rng.bytes(2 * len);
    let words: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    for key in [u8::scratch(), u8::gathered()] {
        key.with(|s| *s.borrow_mut() = bytes[..len].to_vec());
    }
    for key in [i16::scratch(), i16::gathered()] {
        key.with(|s| *s.borrow_mut() = words[..len].to_vec());
    }
}

/// `sum (x - xzp) * (w - wzp[o])` in i64 ([`crate::reference::conv2d_i64`]).
fn reference(case: &Case, x: &[i32], xzp: i32, w: &[i32], wzp: &[i32]) -> Vec<i64> {
    let [_, c, ..] = case.input;
    let wshape = [case.oc, c / case.groups, case.k[0], case.k[1]];
    let (out, _) =
        crate::reference::conv2d_i64(x, case.input, xzp, w, wshape, wzp, case.groups, case.params);
    out
}

/// Runs the direct convolution of `case` with random u8/i8 codes and every epilogue, on both
/// kernels, against the references.
fn check(case: &Case, rng: &mut Rng) {
    let [n, c, h, wd] = case.input;
    let icg = c / case.groups;
    let wshape = [case.oc, icg, case.k[0], case.k[1]];
    let signed_x = rng.below(2) == 0;
    let x8 = rng.bytes(n * c * h * wd);
    let xzp8 = rng.next() as u8;
    let wlen = case.oc * icg * case.k[0] * case.k[1];
    let per_filter = wlen / case.oc;
    // A third of the cases each: 8-bit weights (the vpmaddwd kernel), 7-bit (minus zero point
    // in -64..=63: vpmaddubsw) and 6-bit (-32..=31, `--weight-bits 6`: vpmaddubsw too).
    let bits = [8, 7, 6][rng.below(3)];
    let half = 1i32 << (bits - 1);
    let narrow = bits < 8;
    let signed_w = rng.below(2) == 0;
    let (wzp, w32): (Vec<i32>, Vec<i32>) = if signed_w {
        let z = match (narrow, rng.below(2)) {
            (_, 0) => 0,
            (true, _) => rng.below((256 - 2 * half) as usize) as i32 - (128 - half),
            (false, _) => rng.below(256) as i32 - 128,
        };
        let codes = (0..wlen)
            .map(|_| {
                if narrow {
                    z + rng.below(2 * half as usize) as i32 - half
                } else {
                    i32::from(rng.next() as i8)
                }
            })
            .collect();
        (vec![z; case.oc], codes)
    } else {
        let zps: Vec<i32> = (0..case.oc)
            .map(|_| {
                if narrow {
                    half + rng.below((257 - 2 * half) as usize) as i32
                } else {
                    rng.below(256) as i32
                }
            })
            .collect();
        let codes = (0..wlen)
            .map(|i| {
                if narrow {
                    zps[i / per_filter] + rng.below(2 * half as usize) as i32 - half
                } else {
                    i32::from(rng.next() as u8)
                }
            })
            .collect();
        (zps, codes)
    };
    let w_i8: Vec<i8> = w32.iter().map(|&v| v as i8).collect();
    let w_u8: Vec<u8> = w32.iter().map(|&v| v as u8).collect();
    let weights = if signed_w {
        Weights::I8(&w_i8)
    } else {
        Weights::U8(&w_u8)
    };
    let uniform = wzp.iter().all(|&z| z == wzp[0]);
    let zps = if uniform { &wzp[..1] } else { &wzp[..] };
    let packed = DirectConv::new(weights, zps, wshape, case.groups).unwrap();
    assert!(!narrow || packed.quads.is_some(), "{case:?}");
    let x32: Vec<i32> = x8
        .iter()
        .map(|&v| {
            if signed_x {
                i32::from(v as i8)
            } else {
                i32::from(v)
            }
        })
        .collect();
    let xzp = if signed_x {
        i32::from(xzp8 as i8)
    } else {
        i32::from(xzp8)
    };
    let want = reference(case, &x32, xzp, &w32, &wzp);
    let x_i8: Vec<i8> = x8.iter().map(|&v| v as i8).collect();
    let shape = case
        .params
        .output_dims(case.input, wshape, case.groups)
        .unwrap();
    let len = want.len();
    let pixels = shape[2] * shape[3];

    // Raw sums, through the public entry point and both kernels.
    let mut got = vec![0i32; len];
    if signed_x {
        let input = QuantizedInput {
            data: &x_i8[..],
            shape: case.input,
            zero_point: xzp8 as i8,
            scale: 1.0,
        };
        let s = conv2d_direct::<i8, u8>(input, &packed, &case.params, DirectOutput::I32(&mut got))
            .unwrap();
        assert_eq!(s, shape);
        for isa in isas() {
            poison(rng);
            let mut alt = vec![0i32; len];
            let sink = I32Sink(OutPtr(alt.as_mut_ptr()));
            run(input, &packed, &case.params, shape, &sink, isa);
            assert_eq!(alt, got, "{case:?} {isa:?}");
        }
    } else {
        let input = QuantizedInput {
            data: &x8[..],
            shape: case.input,
            zero_point: xzp8,
            scale: 1.0,
        };
        conv2d_direct::<u8, u8>(input, &packed, &case.params, DirectOutput::I32(&mut got)).unwrap();
        for isa in isas() {
            poison(rng);
            let mut alt = vec![0i32; len];
            let sink = I32Sink(OutPtr(alt.as_mut_ptr()));
            run(input, &packed, &case.params, shape, &sink, isa);
            assert_eq!(alt, got, "{case:?} {isa:?}");
        }
    }
    for (i, (&a, &b)) in want.iter().zip(&got).enumerate() {
        assert_eq!(a, i64::from(b), "{case:?}: sum {i}");
    }

    // Integer requantization (ORT), u8 output with a Relu-like lower bound.
    let multiplier: Vec<f32> = (0..case.oc)
        .map(|_| (1 + rng.below(1000)) as f32 * 1e-6)
        .collect();
    let bias: Vec<i32> = (0..case.oc)
        .map(|_| rng.below(20001) as i32 - 10000)
        .collect();
    let (yzp, lo, hi) = (
        rng.below(256) as i32,
        rng.below(100) as i32,
        200 + rng.below(56) as i32,
    );
    let rq = Requantize::<u8> {
        scale: OutputScale::Int {
            multiplier: &multiplier,
            bias: Some(&bias),
        },
        zero_point: yzp,
        min: lo,
        max: hi,
        residual: None,
    };
    let codes = run_quant::<u8, u8>(case, &packed, signed_x, &x8, xzp8, shape, rq, rng);
    for (i, &q) in codes.iter().enumerate() {
        let ch = (i / pixels) % case.oc;
        let acc = (want[i] + i64::from(bias[ch])) as i32;
        let r = requantize(acc, multiplier[ch], yzp, lo, hi);
        assert_eq!(i32::from(q), r, "{case:?}: code {i}");
    }

    // Float bias and a residual, i8 output, against an f64 reference: at most one code off.
    let scale: Vec<f32> = (0..case.oc)
        .map(|_| (1 + rng.below(1000)) as f32 * 1e-5)
        .collect();
    let fbias: Vec<f32> = (0..case.oc)
        .map(|_| rng.below(200) as f32 * 0.01 - 1.0)
        .collect();
    let z: Vec<i8> = rng.bytes(len).iter().map(|&v| v as i8).collect();
    let (zzp, zs, ys) = (rng.below(256) as i32 - 128, 0.01f32, 0.02f32);
    let yzp = rng.below(256) as i32 - 128;
    let rq = Requantize::<i8> {
        scale: OutputScale::Float {
            scale: &scale,
            bias: Some(&fbias),
            y_scale: ys,
        },
        zero_point: yzp,
        min: -128,
        max: 127,
        residual: Some(Residual {
            codes: &z,
            zero_point: zzp as i8,
            scale: zs,
        }),
    };
    let codes = run_quant::<i8, i8>(case, &packed, signed_x, &x8, xzp8, shape, rq, rng);
    for (i, &q) in codes.iter().enumerate() {
        let ch = (i / pixels) % case.oc;
        let real = want[i] as f64 * f64::from(scale[ch])
            + f64::from(fbias[ch])
            + f64::from(i32::from(z[i]) - zzp) * f64::from(zs);
        let r = ((real / f64::from(ys)).round() + f64::from(yzp)).clamp(-128.0, 127.0);
        assert!(
            (f64::from(q) - r).abs() <= 1.0,
            "{case:?}: residual code {i}: {q} vs {r}"
        );
    }
}

/// Runs the quantized epilogue `rq` on both kernels (they must agree) and returns the codes.
#[allow(clippy::too_many_arguments)]
fn run_quant<O: QuantOutput + PartialEq + std::fmt::Debug, Z: Activation>(
    case: &Case,
    packed: &DirectConv,
    signed_x: bool,
    x8: &[u8],
    xzp8: u8,
    shape: [usize; 4],
    rq: Requantize<'_, Z>,
    rng: &mut Rng,
) -> Vec<O> {
    let len: usize = shape.iter().product();
    rq.check::<O>(shape[1], len).unwrap();
    let mut results = Vec::new();
    for isa in isas() {
        poison(rng);
        let mut out = vec![O::default(); len];
        let sink = QuantSink {
            out: OutPtr(out.as_mut_ptr()),
            requant: rq,
        };
        if signed_x {
            let x: Vec<i8> = x8.iter().map(|&v| v as i8).collect();
            let input = QuantizedInput {
                data: &x[..],
                shape: case.input,
                zero_point: xzp8 as i8,
                scale: 1.0,
            };
            run(input, packed, &case.params, shape, &sink, isa);
        } else {
            let input = QuantizedInput {
                data: x8,
                shape: case.input,
                zero_point: xzp8,
                scale: 1.0,
            };
            run(input, packed, &case.params, shape, &sink, isa);
        }
        results.push(out);
    }
    for r in &results[1..] {
        assert_eq!(&results[0], r, "{case:?}: portable vs vector-kernel codes");
    }
    results.pop().unwrap()
}

/// Serially, and split across three threads (block ranges and, for small images, output
/// channel panels: the 8x8 cases give each image one block range).
#[test]
fn fixed_shapes_match_the_reference() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut rng = Rng::new(17);
        pool.install(|| fixed_cases().iter().for_each(|c| check(c, &mut rng)));
    }
}

#[test]
fn random_shapes_match_the_reference() {
    let mut rng = Rng::new(2024);
    for _ in 0..120 {
        let case = random_case(&mut rng);
        check(&case, &mut rng);
    }
}

#[test]
fn rejects_bad_arguments() {
    let w = [0i8; 2 * 3 * 3 * 3];
    assert!(DirectConv::new(Weights::I8(&w), &[0], [2, 3, 3, 3], 4).is_err());
    assert!(DirectConv::new(Weights::I8(&w[1..]), &[0], [2, 3, 3, 3], 1).is_err());
    assert!(DirectConv::new(Weights::I8(&w), &[0, 0, 0], [2, 3, 3, 3], 1).is_err());
    assert!(DirectConv::new(Weights::I8(&w), &[200], [2, 3, 3, 3], 1).is_err());
    let packed = DirectConv::new(Weights::I8(&w), &[0], [2, 3, 3, 3], 1).unwrap();
    let x = [0u8; 3 * 4 * 4];
    let input = QuantizedInput {
        data: &x[..],
        shape: [1, 3, 4, 4],
        zero_point: 0,
        scale: 1.0,
    };
    let p = Conv2dParams::default();
    let mut out = vec![0i32; 7];
    assert!(conv2d_direct::<u8, u8>(input, &packed, &p, DirectOutput::I32(&mut out)).is_err());
    let mut out = vec![0u8; 8];
    let m = [1.0f32; 2];
    let rq = Requantize::<u8> {
        scale: OutputScale::Int {
            multiplier: &m,
            bias: None,
        },
        zero_point: 0,
        min: 0,
        max: 300,
        residual: None,
    };
    assert!(conv2d_direct(input, &packed, &p, DirectOutput::U8(&mut out, rq)).is_err());
}
