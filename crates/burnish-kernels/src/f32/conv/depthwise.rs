//! Depthwise convolution (one input and one output channel per group): a direct kernel, one
//! output plane per task, accumulating shifted input rows so the inner loop vectorizes.

use rayon::prelude::*;

use super::micro::clamp;
use super::{Conv2dGeometry, Epilogue, PackedConvWeights};

/// Depthwise `conv2d`; the caller checked that `w` is depthwise and the buffers fit `geo`.
pub fn conv(
    x: &[f32],
    geo: &Conv2dGeometry,
    w: &PackedConvWeights,
    epi: &Epilogue,
    out: &mut [f32],
) -> Result<(), String> {
    if epi.accumulate && w.affine.is_some() {
        return Err("a depthwise conv cannot scale its output after adding a residual".into());
    }
    let [oh, ow] = geo.output()?;
    let [h, wd] = geo.input;
    let [kh, kw] = geo.kernel;
    let [sh, sw] = geo.stride;
    let [dh, dw] = geo.dilation;
    let [pt, pl] = geo.pad_begin;
    let channels = geo.out_channels;
    let run = |idx: usize, plane: &mut [f32]| {
        let c = idx % channels;
        let src = &x[idx * h * wd..][..h * wd];
        let bias = w.bias[c];
        if epi.accumulate {
            plane.iter_mut().for_each(|v| *v += bias);
        } else {
            plane.fill(bias);
        }
        let wc = &w.raw[c * kh * kw..][..kh * kw];
        for ky in 0..kh {
            for kx in 0..kw {
                let wv = wc[ky * kw + kx];
                let off = (kx * dw) as isize - pl as isize;
                // Output columns whose input column `ox * sw + off` lies in `0..wd`.
                let lo = if off >= 0 { 0 } else { (-off) as usize }
                    .div_ceil(sw)
                    .min(ow);
                let hi = if wd as isize > off {
                    ((wd as isize - off) as usize).div_ceil(sw).min(ow)
                } else {
                    0
                };
                if lo >= hi {
                    continue;
                }
                for oy in 0..oh {
                    let iy = (oy * sh + ky * dh) as isize - pt as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let line = &src[iy as usize * wd..][..wd];
                    let dst = &mut plane[oy * ow + lo..oy * ow + hi];
                    let start = (lo * sw) as isize + off;
                    if sw == 1 {
                        let s = &line[start as usize..start as usize + (hi - lo)];
                        for (d, &v) in dst.iter_mut().zip(s) {
                            *d += wv * v;
                        }
                    } else {
                        for (t, d) in dst.iter_mut().enumerate() {
                            *d += wv * line[start as usize + t * sw];
                        }
                    }
                }
            }
        }
        if let Some((s, t)) = &w.affine {
            let (s, t) = (s[c], t[c]);
            plane.iter_mut().for_each(|v| *v = *v * s + t);
        }
        if epi.min > f32::NEG_INFINITY || epi.max < f32::INFINITY {
            plane.iter_mut().for_each(|v| *v = clamp(*v, epi));
        }
    };
    let wide = avx2();
    out.par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(idx, plane)| {
            if wide {
                // SAFETY: the CPU supports AVX2 and FMA (checked by `avx2`).
                unsafe { with_avx2(|| run(idx, plane)) }
            } else {
                run(idx, plane)
            }
        });
    Ok(())
}

fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::cpu::features().avx2_fma()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `f` compiled with AVX2 enabled, so its loops vectorize 8 wide.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg_attr(target_arch = "x86_64", target_feature(enable = "avx2,fma"))]
unsafe fn with_avx2<F: FnOnce()>(f: F) {
    f()
}
