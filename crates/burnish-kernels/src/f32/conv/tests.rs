//! The kernels against a direct f64 convolution, over strides, dilations, asymmetric padding,
//! groups, depthwise, 1-D, partial tiles, residual and clamps.

use super::*;
use crate::Conv2dParams;

/// Test data drawn from the project's one seeded generator.
pub(super) struct Lcg(burnish_stats::Rng);

impl Lcg {
    pub(super) fn new(seed: u64) -> Self {
        Self(burnish_stats::Rng::new(seed))
    }
    fn next(&mut self) -> f32 {
        self.0.uniform_f32(-0.5, 0.5)
    }
    pub(super) fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn direct(x: &[f32], g: &Conv2dGeometry, w: &[f32], b: &[f32]) -> Vec<f32> {
    let [oh, ow] = g.output().unwrap();
    let (cig, cog) = (g.in_per_group(), g.out_per_group());
    let [kh, kw] = g.kernel;
    let mut out = vec![0f32; g.output_len().unwrap()];
    for n in 0..g.batch {
        for co in 0..g.out_channels {
            let grp = co / cog;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = f64::from(b[co]);
                    for ci in 0..cig {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * g.window.stride[0] + ky * g.window.dilation[0])
                                    as isize
                                    - g.window.pad_begin()[0] as isize;
                                let ix = (ox * g.window.stride[1] + kx * g.window.dilation[1])
                                    as isize
                                    - g.window.pad_begin()[1] as isize;
                                if iy < 0
                                    || ix < 0
                                    || iy >= g.input[0] as isize
                                    || ix >= g.input[1] as isize
                                {
                                    continue;
                                }
                                let c = n * g.in_channels + grp * cig + ci;
                                let xv =
                                    x[(c * g.input[0] + iy as usize) * g.input[1] + ix as usize];
                                let wv = w[((co * cig + ci) * kh + ky) * kw + kx];
                                s += f64::from(xv) * f64::from(wv);
                            }
                        }
                    }
                    out[((n * g.out_channels + co) * oh + oy) * ow + ox] = s as f32;
                }
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(super) const fn geometry(
    batch: usize,
    cin: usize,
    input: [usize; 2],
    cout: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [usize; 4],
    groups: usize,
) -> Conv2dGeometry {
    Conv2dGeometry {
        batch,
        in_channels: cin,
        input,
        out_channels: cout,
        kernel,
        window: Conv2dParams {
            stride,
            pads,
            dilation,
        },
        groups,
    }
}

/// One geometry's random input, packed weights with a bias, the direct convolution's output
/// and the tolerance a kernel's result must meet.
pub(super) struct Case {
    pub(super) x: Vec<f32>,
    pub(super) packed: PackedConvWeights,
    pub(super) want: Vec<f32>,
    pub(super) tol: f32,
}

impl Case {
    pub(super) fn new(g: &Conv2dGeometry, rng: &mut Lcg) -> Case {
        let x = rng.vec(g.batch * g.in_channels * g.input[0] * g.input[1]);
        let w = rng.vec(g.out_channels * g.in_per_group() * g.kernel[0] * g.kernel[1]);
        let b = rng.vec(g.out_channels);
        let want = direct(&x, g, &w, &b);
        let shape = [g.out_channels, g.in_per_group(), g.kernel[0], g.kernel[1]];
        let packed = PackedConvWeights::new(&w, shape, g.groups, Some(&b)).unwrap();
        let tol = 1e-5 * (g.in_per_group() * g.kernel[0] * g.kernel[1]) as f32;
        Case {
            x,
            packed,
            want,
            tol,
        }
    }
}

pub(super) fn check(g: Conv2dGeometry, rng: &mut Lcg) {
    let Case {
        x,
        packed,
        want,
        tol,
    } = Case::new(&g, rng);
    let mut got = vec![f32::NAN; want.len()];
    conv2d(&x, &g, &packed, &Epilogue::default(), &mut got).unwrap();
    for (i, (a, b)) in want.iter().zip(&got).enumerate() {
        assert!((a - b).abs() <= tol, "{g:?}: value {i}: want {a}, got {b}");
    }
    let mut fresh = Vec::with_capacity(want.len());
    let relu = Epilogue {
        min: 0.0,
        ..Epilogue::default()
    };
    conv2d_uninit(
        &x,
        &g,
        &packed,
        &relu,
        &mut fresh.spare_capacity_mut()[..want.len()],
    )
    .unwrap();
    // SAFETY: `conv2d_uninit` returned Ok: every value is written.
    unsafe { fresh.set_len(want.len()) };
    for (i, (a, b)) in want.iter().zip(&fresh).enumerate() {
        let a = a.max(0.0);
        assert!(
            (a - b).abs() <= tol,
            "{g:?} uninit+relu: value {i}: want {a}, got {b}"
        );
    }
    let (scale, shift) = (rng.vec(g.out_channels), rng.vec(g.out_channels));
    let affine = packed
        .clone()
        .with_affine(scale.clone(), shift.clone())
        .unwrap();
    let mut got = vec![f32::NAN; want.len()];
    conv2d(&x, &g, &affine, &Epilogue::default(), &mut got).unwrap();
    let plane = want.len() / (g.batch * g.out_channels).max(1);
    for (i, (a, b)) in want.iter().zip(&got).enumerate() {
        let c = i / plane % g.out_channels;
        let a = a * scale[c] + shift[c];
        assert!(
            (a - b).abs() <= 2.0 * tol,
            "{g:?} affine: value {i}: want {a}, got {b}"
        );
    }
    let z = rng.vec(want.len());
    let mut got = z.clone();
    let epi = Epilogue {
        min: 0.0,
        max: 0.25,
        accumulate: true,
    };
    conv2d(&x, &g, &packed, &epi, &mut got).unwrap();
    for (i, ((a, z), b)) in want.iter().zip(&z).zip(&got).enumerate() {
        let a = (a + z).clamp(0.0, 0.25);
        assert!(
            (a - b).abs() <= tol,
            "{g:?} residual+clip: value {i}: want {a}, got {b}"
        );
    }
}

#[test]
fn matches_direct_convolution() {
    let mut rng = Lcg::new(7);
    let cases = super::cases::CASES;
    for g in cases {
        check(g, &mut rng);
    }
}

#[test]
fn matches_direct_convolution_on_threads() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let mut rng = Lcg::new(11);
    let cases = [
        geometry(1, 32, [16, 16], 64, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1], 1),
        geometry(1, 16, [8, 8], 16, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
        geometry(1, 8, [7, 7], 20, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
        geometry(3, 8, [12, 20], 12, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 2),
        geometry(1, 16, [27, 27], 24, [1, 1], [1, 1], [1, 1], [0, 0, 0, 0], 1),
        geometry(1, 300, [7, 7], 130, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1),
    ];
    pool.install(|| {
        for g in cases {
            check(g, &mut rng);
        }
    });
}

#[test]
fn rejects_mismatched_buffers() {
    let g = geometry(1, 2, [4, 4], 2, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1], 1);
    let packed = PackedConvWeights::new(&[0.0; 36], [2, 2, 3, 3], 1, None).unwrap();
    let mut out = vec![0.0; 31];
    assert!(conv2d(&[0.0; 32], &g, &packed, &Epilogue::default(), &mut out).is_err());
    assert!(PackedConvWeights::new(&[0.0; 35], [2, 2, 3, 3], 1, None).is_err());
    let tiny = geometry(1, 2, [1, 1], 2, [3, 3], [1, 1], [1, 1], [0, 0, 0, 0], 1);
    assert!(tiny.output().is_err());
}

#[test]
fn microkernels_read_two_runs_and_partial_rows() {
    use super::micro::{BRows, TileOut, portable_acc, tile};
    let mut rng = Lcg::new(3);
    let k = 13;
    let a = rng.vec(k * MR);
    let x = rng.vec(400);
    let offsets: Vec<usize> = (0..k).map(|i| (i * 23) % 300).collect();
    let (lo, hi) = (5usize, 61usize);
    let want = |r: usize, j: usize| -> f64 {
        (0..k)
            .map(|kk| {
                let at = if j < NR / 2 { lo + j } else { hi + j - NR / 2 } + offsets[kk];
                f64::from(a[kk * MR + r]) * f64::from(x[at])
            })
            .sum()
    };
    let b = BRows::Indirect {
        lo: x[lo..].as_ptr(),
        hi: x[hi..].as_ptr(),
        offsets: &offsets,
    };
    // SAFETY: every half row read lies inside `x` (offsets < 300, bases < 70, 8 values).
    let mut acc = [[0f32; NR]; MR];
    unsafe { portable_acc(k, &a, b, &mut acc) };
    for (r, row) in acc.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert!((f64::from(v) - want(r, j)).abs() < 1e-5, "portable {r} {j}");
        }
    }
    let bias = rng.vec(MR);
    for (rows, cols) in [(MR, NR), (4, NR), (1, 9), (5, 3)] {
        let mut out = vec![f32::NAN; MR * NR];
        let o = TileOut {
            ptr: out.as_mut_ptr(),
            row_stride: NR,
            rows,
            cols,
        };
        // SAFETY: `out` holds MR rows of NR values; reads as above.
        unsafe {
            tile(
                k,
                &a,
                b,
                Terms {
                    bias: &bias,
                    affine: None,
                },
                o,
                &Epilogue::default(),
                None,
            )
        };
        for r in 0..MR {
            for j in 0..NR {
                let got = out[r * NR + j];
                if r < rows && j < cols {
                    let w = want(r, j) + f64::from(bias[r]);
                    assert!(
                        (f64::from(got) - w).abs() < 1e-5,
                        "tile {rows}x{cols} {r} {j}"
                    );
                } else {
                    assert!(got.is_nan(), "tile {rows}x{cols} wrote outside at {r} {j}");
                }
            }
        }
    }
}

#[test]
fn a_reduction_split_into_chunks_gives_the_same_bits() {
    use super::micro::{BRows, Partial, TileOut, tile};
    let mut rng = Lcg::new(11);
    let k = 700;
    let a = rng.vec(k * MR);
    let b = rng.vec(k * NR + NR);
    let bias = rng.vec(MR);
    let terms = Terms {
        bias: &bias,
        affine: None,
    };
    let epi = Epilogue {
        min: -0.25,
        ..Epilogue::default()
    };
    let out_of = |buf: &mut Vec<f32>| TileOut {
        ptr: buf.as_mut_ptr(),
        row_stride: NR,
        rows: MR,
        cols: NR,
    };
    let mut whole = vec![0f32; MR * NR];
    // SAFETY: `whole` holds MR rows of NR values; `b` holds k rows of NR values.
    unsafe {
        tile(
            k,
            &a,
            BRows::Packed(&b),
            terms,
            out_of(&mut whole),
            &epi,
            None,
        )
    };
    let mut split = vec![0f32; MR * NR];
    let mut sums = vec![0f32; MR * NR];
    let cuts = [0, 250, 251, 600, k];
    for (c, w) in cuts.windows(2).enumerate() {
        let partial = Partial {
            sums: sums.as_mut_ptr(),
            resume: c > 0,
            finish: w[1] == k,
        };
        let (a, b) = (&a[w[0] * MR..w[1] * MR], &b[w[0] * NR..]);
        // SAFETY: as above, for the chunk's rows; `sums` holds MR * NR values.
        unsafe {
            tile(
                w[1] - w[0],
                a,
                BRows::Packed(b),
                terms,
                out_of(&mut split),
                &epi,
                Some(partial),
            )
        };
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&whole), bits(&split));
}

#[test]
fn long_reductions_match_the_direct_convolution() {
    let mut rng = Lcg::new(5);
    // k = 96 * 9 = 864 > 512: the driver splits the reduction, for every layout.
    for (input, stride) in [([9, 16], [1, 1]), ([7, 7], [1, 1]), ([12, 13], [2, 2])] {
        let g = geometry(1, 96, input, 14, [3, 3], stride, [1, 1], [1, 1, 1, 1], 1);
        let x = rng.vec(96 * input[0] * input[1]);
        let w = rng.vec(14 * 96 * 9);
        let b = rng.vec(14);
        let packed = PackedConvWeights::new(&w, [14, 96, 3, 3], 1, Some(&b)).unwrap();
        let want = direct(&x, &g, &w, &b);
        let residual = rng.vec(want.len());
        let mut out = residual.clone();
        let epi = Epilogue {
            min: 0.0,
            accumulate: true,
            ..Epilogue::default()
        };
        conv2d(&x, &g, &packed, &epi, &mut out).unwrap();
        for (i, (&got, (&d, &r))) in out.iter().zip(want.iter().zip(&residual)).enumerate() {
            let w = (d + r).max(0.0);
            assert!((got - w).abs() < 1e-3, "{input:?} at {i}: {got} vs {w}");
        }
    }
}
