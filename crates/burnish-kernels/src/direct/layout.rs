//! The input of one call, padded once and laid out for the microkernel.
//!
//! Padding is materialized and (stride > 1) each channel is split into `stride_h x stride_w`
//! phase planes, so every kernel tap reads runs of consecutive output pixels, as a stride-1
//! convolution does. Channels of a group are interleaved in units of [`Lane::LANES`]:
//! `[image][group][unit][phase][y][x][LANES]`, so one reduction step of 16 output pixels is 64
//! contiguous bytes. Two layouts:
//!
//! * `i16`, pairs: the code minus the zero point, padding 0 (the `vpmaddwd` kernels);
//! * `u8`, quads: the offset-binary code itself, padding the zero point's code, which the
//!   epilogue removes with the weight sums (the `vpmaddubsw` kernel).

use rayon::prelude::*;

use super::NR;
use crate::Conv2dParams;
use crate::pack::Activation;

/// An element of a layout.
pub(crate) trait Lane: Copy + Send + Sync + 'static {
    /// Channels per unit.
    const LANES: usize;
    /// The stored value of an offset-binary code, given the zero point's.
    fn of(code: u8, zp: u8) -> Self;
    /// The padding value.
    fn pad(zp: u8) -> Self;
}

impl Lane for i16 {
    const LANES: usize = 2;
    #[inline(always)]
    fn of(code: u8, zp: u8) -> Self {
        i16::from(code) - i16::from(zp)
    }
    fn pad(_: u8) -> Self {
        0
    }
}

impl Lane for u8 {
    const LANES: usize = 4;
    #[inline(always)]
    fn of(code: u8, _: u8) -> Self {
        code
    }
    fn pad(zp: u8) -> Self {
        zp
    }
}

/// The laid-out input. Ends with slack so 16-pixel reads past a run stay inside the buffer.
pub(crate) struct Padded<T> {
    pub data: Vec<T>,
    /// Height and width of one phase plane.
    pub phase: [usize; 2],
    /// Values per unit (all its phase planes, all lanes).
    pub unit_len: usize,
    /// Units per image (all groups).
    pub units_per_image: usize,
}

impl<T: Lane> Padded<T> {
    /// Lays out `x` (`[n, c, h, w]`) for `groups` groups of `units` units each.
    #[allow(clippy::too_many_arguments)]
    pub fn new<A: Activation>(
        x: &[A],
        zero_point: A,
        [n, c, h, w]: [usize; 4],
        groups: usize,
        units: usize,
        params: &Conv2dParams,
        [kh, kw]: [usize; 2],
    ) -> Self {
        let lanes = T::LANES;
        let [sh, sw] = params.stride;
        let [dh, dw] = params.dilation;
        let [pt, pl, pb, pr] = params.pads;
        let (ph, pw) = (h + pt + pb, w + pl + pr);
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let plane = phase[0] * phase[1];
        let unit_len = sh * sw * plane * lanes;
        let units_per_image = groups * units;
        let icg = c / groups;
        let zp = zero_point.to_offset_u8();
        let mut data = vec![T::pad(zp); n * units_per_image * unit_len + lanes * NR];
        // Phase planes no kernel tap reads (three of four for a 1x1 stride-2 conv) stay padding.
        let rows_used: Vec<bool> = (0..sh)
            .map(|a| (0..kh).any(|ky| ky * dh % sh == a))
            .collect();
        let cols_used: Vec<usize> = (0..sw)
            .filter(|&b| (0..kw).any(|kx| kx * dw % sw == b))
            .collect();
        // Where input row y lands (`None`: in a phase plane no tap reads), and, per used
        // column phase b, the first phase column, input column and count of values.
        let rows: Vec<Option<usize>> = (0..h)
            .map(|y| {
                let py = y + pt;
                rows_used[py % sh].then(|| (py % sh) * sw * plane + (py / sh) * phase[1])
            })
            .collect();
        let cols: Vec<(usize, usize, usize)> = cols_used
            .iter()
            .filter_map(|&b| {
                // Phase column j holds padded column j * sw + b, input column j * sw + b - pl.
                let first = pl.saturating_sub(b).div_ceil(sw);
                let start = (first * sw + b).checked_sub(pl).filter(|&s| s < w)?;
                let count = (w - start).div_ceil(sw).min(phase[1] - first);
                Some((b * plane + first, start, count))
            })
            .collect();
        let fill = |(idx, dst): (usize, &mut [T])| {
            let (img, gu) = (idx / units_per_image, idx % units_per_image);
            let (g, unit) = (gu / units, gu % units);
            let mut planes: [Option<&[A]>; 4] = [None; 4];
            for (l, p) in planes.iter_mut().take(lanes).enumerate() {
                let ci = lanes * unit + l;
                if ci < icg {
                    *p = Some(&x[((img * c) + g * icg + ci) * h * w..][..h * w]);
                }
            }
            for (y, row) in rows.iter().enumerate() {
                let Some(row) = *row else {
                    continue;
                };
                let lines = planes.map(|p| p.map(|p| &p[y * w..][..w]));
                for &(at, start, count) in &cols {
                    let out = &mut dst[lanes * (row + at)..][..lanes * count];
                    interleave(out, &lines[..lanes], start, sw, zp);
                }
            }
        };
        let body = &mut data[..n * units_per_image * unit_len];
        if body.len() >= 1 << 15 {
            body.par_chunks_mut(unit_len).enumerate().for_each(fill);
        } else {
            body.chunks_mut(unit_len).enumerate().for_each(fill);
        }
        Self {
            data,
            phase,
            unit_len,
            units_per_image,
        }
    }

    /// Offset of every reduction step `(unit, ky, kx)` from a block's base.
    pub fn offsets(&self, units: usize, params: &Conv2dParams, [kh, kw]: [usize; 2]) -> Vec<usize> {
        let [dh, dw] = params.dilation;
        let [sh, sw] = params.stride;
        let [qh, qw] = self.phase;
        let mut offsets = Vec::with_capacity(units * kh * kw);
        for unit in 0..units {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (y, x) = (ky * dh, kx * dw);
                    let phase = (y % sh) * sw + x % sw;
                    offsets.push(
                        unit * self.unit_len
                            + T::LANES * (phase * qh * qw + (y / sh) * qw + x / sw),
                    );
                }
            }
        }
        offsets
    }

    /// Offset of output pixel `(oy, ox)`'s window origin within a unit's planes.
    pub fn origin(&self, oy: usize, ox: usize) -> usize {
        T::LANES * (oy * self.phase[1] + ox)
    }

    /// The data from group `g` of image `img` on (with the slack).
    pub fn group(&self, img: usize, g: usize, units: usize) -> &[T] {
        &self.data[(img * self.units_per_image + g * units) * self.unit_len..]
    }
}

/// `out[LANES * j + l] = T::of(lines[l][start + j * step])` for the lanes that have a line.
fn interleave<A: Activation, T: Lane>(
    out: &mut [T],
    lines: &[Option<&[A]>],
    start: usize,
    step: usize,
    zp: u8,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        unsafe { interleave_avx2(out, lines, start, step, zp) };
        return;
    }
    interleave_body(out, lines, start, step, zp);
}

/// [`interleave`] compiled for AVX2, so its loops vectorize.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave_avx2<A: Activation, T: Lane>(
    out: &mut [T],
    lines: &[Option<&[A]>],
    start: usize,
    step: usize,
    zp: u8,
) {
    interleave_body(out, lines, start, step, zp);
}

#[inline(always)]
fn interleave_body<A: Activation, T: Lane>(
    out: &mut [T],
    lines: &[Option<&[A]>],
    start: usize,
    step: usize,
    zp: u8,
) {
    let lanes = T::LANES;
    let n = out.len() / lanes;
    let v = |a: A| T::of(a.to_offset_u8(), zp);
    match (lines, step) {
        ([Some(l0), Some(l1)], 1) => {
            for ((o, &a), &b) in out
                .chunks_exact_mut(2)
                .zip(&l0[start..start + n])
                .zip(&l1[start..start + n])
            {
                o[0] = v(a);
                o[1] = v(b);
            }
        }
        ([Some(l0), Some(l1), Some(l2), Some(l3)], 1) => {
            let (l0, l1) = (&l0[start..start + n], &l1[start..start + n]);
            let (l2, l3) = (&l2[start..start + n], &l3[start..start + n]);
            for (j, o) in out.chunks_exact_mut(4).enumerate() {
                o[0] = v(l0[j]);
                o[1] = v(l1[j]);
                o[2] = v(l2[j]);
                o[3] = v(l3[j]);
            }
        }
        _ => {
            for (l, line) in lines.iter().enumerate() {
                let Some(line) = line else {
                    continue;
                };
                for (j, o) in out.chunks_exact_mut(lanes).enumerate() {
                    o[l] = v(line[start + j * step]);
                }
            }
        }
    }
}
