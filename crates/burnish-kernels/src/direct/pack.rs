//! Weights packed once for the direct convolution, and the input padded per call.
//!
//! Both operands are 16-bit with their zero points already removed, and the reduction runs over
//! (channel pair, ky, kx) steps. A step of a weight panel is [`MR`] 32-bit words, one per output
//! channel, holding the weights of the pair's two channels (`vpbroadcastd` operands); a step of
//! the input is 16 consecutive output pixels x the pair's two channels (two 256-bit loads).

use rayon::prelude::*;

use super::{MR, NR};
use crate::pack::{Activation, check_len};
use crate::{Conv2dParams, KernelError, Weights};

/// Largest reduction depth accumulated exactly in i32: `depth * 255 * 255 < 2^31`.
pub const MAX_DIRECT_DEPTH: usize = 33_000;

/// Int8 convolution weights `[out_channels, in_channels / groups, kh, kw]` packed once for
/// [`super::conv2d_direct`]: zero points removed, panels of six output channels.
#[derive(Debug, Clone)]
pub struct DirectConv {
    pub(crate) shape: [usize; 4],
    pub(crate) groups: usize,
    /// Channel pairs per group (`ceil(in_channels / groups / 2)`).
    pub(crate) pairs: usize,
    /// `[group][panel][step][MR]` words of two i16 weights (even channel in the low half).
    pub(crate) panels: Vec<u32>,
    /// `[out_channels][in/groups * kh * kw]` weights minus their zero point (depthwise kernel).
    pub(crate) raw: Vec<i16>,
}

impl DirectConv {
    /// Packs i8 or u8 weight codes with zero points (one, or one per output channel).
    pub fn new(
        w: Weights<'_>,
        zero_points: &[i32],
        shape: [usize; 4],
        groups: usize,
    ) -> Result<Self, KernelError> {
        let [oc, icg, kh, kw] = shape;
        if groups == 0 || oc == 0 || oc % groups != 0 {
            return Err(KernelError::Conv(format!(
                "`{oc}` output channels do not split into `{groups}` groups"
            )));
        }
        if icg == 0 || kh == 0 || kw == 0 {
            return Err(KernelError::ZeroDimension {
                what: "weight dimension",
            });
        }
        let k = icg * kh * kw;
        if k > MAX_DIRECT_DEPTH {
            return Err(KernelError::DepthOutOfRange {
                k,
                max: MAX_DIRECT_DEPTH,
            });
        }
        let len = match w {
            Weights::I8(v) => v.len(),
            Weights::U8(v) => v.len(),
        };
        check_len("w", oc * k, len)?;
        if zero_points.len() != 1 {
            check_len("zero_points", oc, zero_points.len())?;
        }
        let zp = |o: usize| zero_points[o.min(zero_points.len() - 1)];
        let mut raw = vec![0i16; oc * k];
        for (o, dst) in raw.chunks_exact_mut(k).enumerate() {
            let z = zp(o);
            let ok = match w {
                Weights::I8(v) => {
                    (-128..=127).contains(&z) && {
                        for (d, &c) in dst.iter_mut().zip(&v[o * k..]) {
                            *d = (i32::from(c) - z) as i16;
                        }
                        true
                    }
                }
                Weights::U8(v) => {
                    (0..=255).contains(&z) && {
                        for (d, &c) in dst.iter_mut().zip(&v[o * k..]) {
                            *d = (i32::from(c) - z) as i16;
                        }
                        true
                    }
                }
            };
            if !ok {
                return Err(KernelError::Conv(format!(
                    "weight zero point `{z}` is outside the weight type's range"
                )));
            }
        }
        let pairs = icg.div_ceil(2);
        let (ocg, taps) = (oc / groups, kh * kw);
        let panels_g = ocg.div_ceil(MR);
        let steps = pairs * taps;
        let mut panels = vec![0u32; groups * panels_g * steps * MR];
        for (gp, panel) in panels.chunks_exact_mut(steps * MR).enumerate() {
            let (g, p) = (gp / panels_g, gp % panels_g);
            for r in 0..MR.min(ocg - p * MR) {
                let filter = &raw[(g * ocg + p * MR + r) * k..][..k];
                for pair in 0..pairs {
                    for t in 0..taps {
                        let lo = filter[2 * pair * taps + t] as u16;
                        let hi = if 2 * pair + 1 < icg {
                            filter[(2 * pair + 1) * taps + t] as u16
                        } else {
                            0
                        };
                        panel[(pair * taps + t) * MR + r] = u32::from(lo) | (u32::from(hi) << 16);
                    }
                }
            }
        }
        Ok(Self {
            shape,
            groups,
            pairs,
            panels,
            raw,
        })
    }

    /// `[out_channels, in_channels / groups, kh, kw]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    /// Number of groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Reduction steps of one panel: channel pairs x kh x kw.
    pub(crate) fn steps(&self) -> usize {
        self.pairs * self.shape[2] * self.shape[3]
    }

    pub(crate) fn panels_per_group(&self) -> usize {
        (self.shape[0] / self.groups).div_ceil(MR)
    }

    /// Panel `p` of group `g`: `steps * MR` words.
    pub(crate) fn panel(&self, g: usize, p: usize) -> &[u32] {
        let len = self.steps() * MR;
        &self.panels[(g * self.panels_per_group() + p) * len..][..len]
    }

    /// True when every group maps one input channel to one output channel.
    pub(crate) fn is_depthwise(&self) -> bool {
        self.shape[1] == 1 && self.shape[0] == self.groups
    }
}

/// The input minus its zero point as i16, padded with zeros, (stride > 1) split into
/// `stride_h x stride_w` phase planes, channels of each group paired and interleaved:
/// `[image][group][pair][phase][y][x][2]`. Ends with slack so 16-pixel reads past a run stay
/// inside the buffer.
pub(crate) struct Padded {
    pub data: Vec<i16>,
    /// Height and width of one phase plane.
    pub phase: [usize; 2],
    /// i16 values per channel pair (all its phase planes, both channels).
    pub pair_len: usize,
    /// Channel pairs per image (all groups).
    pub pairs_per_image: usize,
}

impl Padded {
    pub fn new<A: Activation>(
        x: &[A],
        zero_point: A,
        [n, c, h, w]: [usize; 4],
        groups: usize,
        pairs: usize,
        params: &Conv2dParams,
        [kh, kw]: [usize; 2],
    ) -> Self {
        let [sh, sw] = params.stride;
        let [dh, dw] = params.dilation;
        let [pt, pl, pb, pr] = params.pads;
        let (ph, pw) = (h + pt + pb, w + pl + pr);
        let phase = [ph.div_ceil(sh), pw.div_ceil(sw)];
        let plane = phase[0] * phase[1];
        let pair_len = sh * sw * plane * 2;
        let pairs_per_image = groups * pairs;
        let icg = c / groups;
        let mut data = vec![0i16; n * pairs_per_image * pair_len + 2 * NR];
        let zp = i16::from(zero_point.to_offset_u8());
        // Phase planes no kernel tap reads (three of four for a 1x1 stride-2 conv) stay zero.
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
        let fill = |(idx, dst): (usize, &mut [i16])| {
            let (img, gp) = (idx / pairs_per_image, idx % pairs_per_image);
            let (g, pair) = (gp / pairs, gp % pairs);
            let ci = 2 * pair;
            let plane_of = |ci: usize| &x[((img * c) + g * icg + ci) * h * w..][..h * w];
            let (x0, x1) = (plane_of(ci), (ci + 1 < icg).then(|| plane_of(ci + 1)));
            for (y, row) in rows.iter().enumerate() {
                let Some(row) = *row else {
                    continue;
                };
                let line0 = &x0[y * w..][..w];
                let line1 = x1.map(|p| &p[y * w..][..w]);
                for &(at, start, count) in &cols {
                    let out = &mut dst[2 * (row + at)..][..2 * count];
                    interleave(out, line0, line1, start, sw, zp);
                }
            }
        };
        let body = &mut data[..n * pairs_per_image * pair_len];
        if body.len() >= 1 << 15 {
            body.par_chunks_mut(pair_len).enumerate().for_each(fill);
        } else {
            body.chunks_mut(pair_len).enumerate().for_each(fill);
        }
        Self {
            data,
            phase,
            pair_len,
            pairs_per_image,
        }
    }

    /// Offset (in i16) of every reduction step `(pair, ky, kx)` from a block's base.
    pub fn offsets(&self, pairs: usize, params: &Conv2dParams, [kh, kw]: [usize; 2]) -> Vec<usize> {
        let [dh, dw] = params.dilation;
        let [sh, sw] = params.stride;
        let [qh, qw] = self.phase;
        let mut offsets = Vec::with_capacity(pairs * kh * kw);
        for pair in 0..pairs {
            for ky in 0..kh {
                for kx in 0..kw {
                    let (y, x) = (ky * dh, kx * dw);
                    let phase = (y % sh) * sw + x % sw;
                    offsets.push(
                        pair * self.pair_len + 2 * (phase * qh * qw + (y / sh) * qw + x / sw),
                    );
                }
            }
        }
        offsets
    }

    /// Offset (in i16) of output pixel `(oy, ox)`'s window origin within a pair's planes.
    pub fn origin(&self, oy: usize, ox: usize) -> usize {
        2 * (oy * self.phase[1] + ox)
    }

    /// The data from group `g` of image `img` on (with the slack).
    pub fn group(&self, img: usize, g: usize, pairs: usize) -> &[i16] {
        &self.data[(img * self.pairs_per_image + g * pairs) * self.pair_len..]
    }
}

/// `out[2j] = line0[start + j * step] - zp`, `out[2j + 1]` the same from `line1` (or 0).
fn interleave<A: Activation>(
    out: &mut [i16],
    line0: &[A],
    line1: Option<&[A]>,
    start: usize,
    step: usize,
    zp: i16,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        unsafe { interleave_avx2(out, line0, line1, start, step, zp) };
        return;
    }
    interleave_body(out, line0, line1, start, step, zp);
}

/// [`interleave`] compiled for AVX2, so its loops vectorize 16 lanes wide.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave_avx2<A: Activation>(
    out: &mut [i16],
    line0: &[A],
    line1: Option<&[A]>,
    start: usize,
    step: usize,
    zp: i16,
) {
    interleave_body(out, line0, line1, start, step, zp);
}

#[inline(always)]
fn interleave_body<A: Activation>(
    out: &mut [i16],
    line0: &[A],
    line1: Option<&[A]>,
    start: usize,
    step: usize,
    zp: i16,
) {
    let v = |a: A| i16::from(a.to_offset_u8()) - zp;
    match (line1, step) {
        (Some(l1), 1) => {
            let n = out.len() / 2;
            for ((o, &a), &b) in out
                .chunks_exact_mut(2)
                .zip(&line0[start..start + n])
                .zip(&l1[start..start + n])
            {
                o[0] = v(a);
                o[1] = v(b);
            }
        }
        (None, 1) => {
            let n = out.len() / 2;
            for (o, &a) in out.chunks_exact_mut(2).zip(&line0[start..start + n]) {
                o[0] = v(a);
            }
        }
        (Some(l1), _) => {
            for (j, o) in out.chunks_exact_mut(2).enumerate() {
                o[0] = v(line0[start + j * step]);
                o[1] = v(l1[start + j * step]);
            }
        }
        (None, _) => {
            for (j, o) in out.chunks_exact_mut(2).enumerate() {
                o[0] = v(line0[start + j * step]);
            }
        }
    }
}
