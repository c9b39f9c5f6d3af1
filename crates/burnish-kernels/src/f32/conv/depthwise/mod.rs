//! Depthwise convolution (one input and one output channel per group): a direct kernel, one
//! output plane per task.
//!
//! Each input plane is first copied into a zero-padded scratch plane whose rows are split into
//! `stride` column phases, so every tap of every output column reads a contiguous run (stride 2
//! included) and no tap needs a bounds check. Outputs are then computed `LANES` (16) columns at a
//! time with the accumulators in registers across all taps, in the tap order of the
//! definition (bias, then taps row by row, each a multiply and an add).

use rayon::prelude::*;

use super::micro::clamp;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights};
use crate::KernelError;

/// Output columns computed together (one AVX-512 register, two AVX2 registers).
const LANES: usize = 16;

/// Depthwise `conv2d`; the caller checked that `w` is depthwise and the buffers fit `geo`.
pub fn conv(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), KernelError> {
    if epi.accumulate && w.affine.is_some() {
        return Err(KernelError::Conv(
            "a depthwise conv cannot scale its output after adding a residual".into(),
        ));
    }
    let [oh, ow] = geo.output()?;
    let scratch = Scratch::new(geo, ow);
    let [h, wd] = geo.input;
    let channels = geo.out_channels;
    let isa = Isa::probe();
    let plane = oh * ow;
    if plane == 0 {
        return Ok(());
    }
    let run = |buf: &mut Vec<f32>, (idx, dst): (usize, &mut [f32])| {
        let c = idx % channels;
        let job = Plane {
            src: &x[idx * h * wd..][..h * wd],
            weights: &w.raw[c * geo.kernel[0] * geo.kernel[1]..][..geo.kernel[0] * geo.kernel[1]],
            bias: w.bias[c],
            affine: w.affine.as_ref().map(|(s, t)| (s[c], t[c])),
        };
        isa.run(&job, geo, &scratch, epi, buf, dst);
    };
    if rayon::current_num_threads() > 1 && out.len() >= 1 << 13 {
        out.par_chunks_mut(plane)
            .enumerate()
            .for_each_init(Vec::new, run);
    } else {
        let mut buf = Vec::new();
        out.chunks_mut(plane)
            .enumerate()
            .for_each(|job| run(&mut buf, job));
    }
    Ok(())
}

/// The depthwise kernel for callers whose planes are not f32 tensors (the int8 convolution
/// runs exact integer sums through it): `load(idx, src)` writes input plane `idx` (image x
/// channel, `h * w` values) into `src`, the kernel computes the plane with no bias and no
/// epilogue, and `take(idx, sums)` consumes its `oh * ow` outputs. Planes run in parallel when
/// there are enough outputs; each thread reuses its buffers.
pub(crate) fn conv_planes(
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    load: impl Fn(usize, &mut [f32]) + Sync,
    take: impl Fn(usize, &[f32]) + Sync,
) -> Result<(), KernelError> {
    let [oh, ow] = geo.output()?;
    let scratch = Scratch::new(geo, ow);
    let [h, wd] = geo.input;
    let (channels, taps) = (geo.out_channels, geo.kernel[0] * geo.kernel[1]);
    let isa = Isa::probe();
    let epi = Epilogue::default();
    let planes = geo.batch * channels;
    let run = |(buf, src, dst): &mut (Vec<f32>, Vec<f32>, Vec<f32>), idx: usize| {
        src.resize(h * wd, 0.0);
        dst.resize(oh * ow, 0.0);
        load(idx, src);
        let c = idx % channels;
        let job = Plane {
            src,
            weights: &w.raw[c * taps..][..taps],
            bias: 0.0,
            affine: None,
        };
        isa.run(&job, geo, &scratch, &epi, buf, dst);
        take(idx, dst);
    };
    let init = || (Vec::new(), Vec::new(), Vec::new());
    if rayon::current_num_threads() > 1 && planes * oh * ow >= 1 << 13 {
        (0..planes).into_par_iter().for_each_init(init, run);
    } else {
        let mut bufs = init();
        (0..planes).for_each(|idx| run(&mut bufs, idx));
    }
    Ok(())
}

/// One channel's input plane and parameters.
struct Plane<'a> {
    src: &'a [f32],
    weights: &'a [f32],
    bias: f32,
    affine: Option<(f32, f32)>,
}

/// The padded, phase-split scratch plane: `rows` rows of `stride` phases of `len` values.
struct Scratch {
    rows: usize,
    stride: usize,
    len: usize,
    /// Per tap `(ky, kx)`, the offset of output column 0 of output row 0.
    taps: Vec<usize>,
    /// Values between the starts of consecutive output rows.
    row_step: usize,
    /// Output row width.
    ow: usize,
    /// Per output row, the taps (a range of `taps` and of the weights) whose input row is
    /// inside the input, not in the padding.
    live: Vec<std::ops::Range<usize>>,
}

impl Scratch {
    fn new(geo: &Conv2dGeometry, ow: usize) -> Self {
        let [h, wd] = geo.input;
        let [sh, sw] = geo.window.stride;
        let [dh, dw] = geo.window.dilation;
        let rows = h + geo.window.pad_begin()[0] + geo.window.pad_end()[0];
        let width = wd + geo.window.pad_begin()[1] + geo.window.pad_end()[1];
        let len = width.div_ceil(sw).max(ow) + LANES;
        let taps = (0..geo.kernel[0])
            .flat_map(|ky| {
                (0..geo.kernel[1]).map(move |kx| {
                    let col = kx * dw;
                    (ky * dh * sw + col % sw) * len + col / sw
                })
            })
            .collect();
        let (kh, kw) = (geo.kernel[0], geo.kernel[1]);
        let pt = geo.window.pad_begin()[0];
        let oh = geo.output().map_or(0, |[oh, _]| oh);
        let live = (0..oh)
            .map(|oy| {
                let inside = |ky: &usize| (pt..pt + h).contains(&(oy * sh + ky * dh));
                let first = (0..kh).find(inside).unwrap_or(kh);
                let end = (0..kh).rev().find(inside).map_or(first, |ky| ky + 1);
                first * kw..end * kw
            })
            .collect();
        Self {
            rows,
            stride: sw,
            len,
            taps,
            row_step: sh * sw * len,
            ow,
            live,
        }
    }

    /// Copies `src` (`h x wd`) into `buf`, zero padded and split into column phases. The
    /// padding is written once, when `buf` first takes this layout; later planes overwrite
    /// only the interior.
    #[inline(always)]
    fn fill(&self, src: &[f32], geo: &Conv2dGeometry, buf: &mut Vec<f32>) {
        let [h, wd] = geo.input;
        let [pt, pl] = geo.window.pad_begin();
        let (sw, len) = (self.stride, self.len);
        if buf.len() != self.rows * sw * len {
            buf.clear();
            buf.resize(self.rows * sw * len, 0.0);
        }
        for (y, line) in src.chunks_exact(wd).take(h).enumerate() {
            let row = &mut buf[(y + pt) * sw * len..][..sw * len];
            if sw == 1 {
                row[pl..pl + wd].copy_from_slice(line);
            } else if sw == 2 {
                let (even, odd) = row.split_at_mut(len);
                let (evens, odds) = if pl % 2 == 0 {
                    (&mut even[pl / 2..], &mut odd[pl / 2..])
                } else {
                    (&mut odd[pl / 2..], &mut even[pl.div_ceil(2)..])
                };
                crate::f32::phase::deinterleave2(line, evens, odds);
            } else {
                for phase in 0..sw {
                    let first = (phase + sw - pl % sw) % sw;
                    let dst = &mut row[phase * len + (pl + first) / sw..];
                    for (d, &v) in dst.iter_mut().zip(line.iter().skip(first).step_by(sw)) {
                        *d = v;
                    }
                }
            }
        }
    }
}

/// Writes one output plane from the filled scratch plane.
#[inline(always)]
fn plane_out(job: &Plane<'_>, s: &Scratch, buf: &[f32], epi: &Epilogue, dst: &mut [f32]) {
    let ow = s.ow;
    let clamps = epi.min > f32::NEG_INFINITY || epi.max < f32::INFINITY;
    for (oy, row) in dst.chunks_exact_mut(ow).enumerate() {
        let base = oy * s.row_step;
        let live = s.live[oy].clone();
        let (taps, weights) = (&s.taps[live.clone()], &job.weights[live]);
        let mut ox = 0;
        while ox < ow {
            let n = LANES.min(ow - ox);
            let mut acc = [job.bias; LANES];
            if epi.accumulate {
                for (a, &r) in acc.iter_mut().zip(&row[ox..ox + n]) {
                    *a = r + job.bias;
                }
            }
            for (&at, &wv) in taps.iter().zip(weights) {
                let src: &[f32; LANES] = buf[base + at + ox..][..LANES].try_into().expect("lanes");
                for (a, &v) in acc.iter_mut().zip(src) {
                    *a += wv * v;
                }
            }
            if let Some((sc, sh)) = job.affine {
                acc.iter_mut().for_each(|v| *v = *v * sc + sh);
            }
            if clamps {
                acc.iter_mut().for_each(|v| *v = clamp(*v, epi));
            }
            row[ox..ox + n].copy_from_slice(&acc[..n]);
            ox += n;
        }
    }
}

/// The instruction set the plane loop is compiled for.
#[derive(Clone, Copy)]
enum Isa {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    fn probe() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let f = crate::cpu::features();
            if f.avx512() {
                return Self::Avx512;
            }
            if f.avx2_fma() {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    fn run(
        self,
        job: &Plane<'_>,
        geo: &Conv2dGeometry,
        s: &Scratch,
        epi: &Epilogue,
        buf: &mut Vec<f32>,
        dst: &mut [f32],
    ) {
        match self {
            Self::Portable => one(job, geo, s, epi, buf, dst),
            // SAFETY: `probe` saw AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { one_avx2(job, geo, s, epi, buf, dst) },
            // SAFETY: `probe` saw AVX-512F.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { one_avx512(job, geo, s, epi, buf, dst) },
        }
    }
}

#[inline(always)]
fn one(
    job: &Plane<'_>,
    geo: &Conv2dGeometry,
    s: &Scratch,
    epi: &Epilogue,
    buf: &mut Vec<f32>,
    dst: &mut [f32],
) {
    s.fill(job.src, geo, buf);
    plane_out(job, s, buf, epi, dst);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn one_avx2(
    job: &Plane<'_>,
    geo: &Conv2dGeometry,
    s: &Scratch,
    epi: &Epilogue,
    buf: &mut Vec<f32>,
    dst: &mut [f32],
) {
    s.fill(job.src, geo, buf);
    // SAFETY: AVX2 is enabled here; `buf` was filled for `s`.
    unsafe { x86::plane_avx2(job, s, buf, epi, dst) };
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn one_avx512(
    job: &Plane<'_>,
    geo: &Conv2dGeometry,
    s: &Scratch,
    epi: &Epilogue,
    buf: &mut Vec<f32>,
    dst: &mut [f32],
) {
    s.fill(job.src, geo, buf);
    // SAFETY: AVX-512F is enabled here; `buf` was filled for `s`.
    unsafe { x86::plane_avx512(job, s, buf, epi, dst) };
}

#[cfg(target_arch = "x86_64")]
mod x86;
