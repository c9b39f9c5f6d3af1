//! Weights packed once for the direct convolution, and the input padded per call.
//!
//! Both operands are 16-bit with their zero points already removed, and the reduction runs over
//! (channel pair, ky, kx) steps. A step of a weight panel is [`MR`] 32-bit words, one per output
//! channel, holding the weights of the pair's two channels (`vpbroadcastd` operands); a step of
//! the input is 16 consecutive output pixels x the pair's two channels (two 256-bit loads).

use std::sync::Arc;

use super::MR;
use crate::f32::conv::PackedConvWeights;
use crate::pack::check_len;
use crate::{KernelError, Weights};

/// Largest reduction depth accumulated exactly in i32: `depth * 255 * 255 < 2^31`.
pub const MAX_DIRECT_DEPTH: usize = 33_000;

/// Most depthwise taps whose sums f32 holds exactly: `taps * 255 * 255 < 2^24`.
pub(crate) const EXACT_F32_TAPS: usize = 258;

/// Int8 convolution weights `[out_channels, in_channels / groups, kh, kw]` packed once for
/// [`super::conv2d_direct`]: zero points removed, panels of six output channels.
#[derive(Debug, Clone)]
pub struct DirectConv {
    pub(crate) shape: [usize; 4],
    pub(crate) groups: usize,
    /// Channel pairs per group (`ceil(in_channels / groups / 2)`).
    pub(crate) pairs: usize,
    /// `[group][panel][step][MR]` words of two i16 weights (even channel in the low half).
    pub(crate) panels: Arc<[u32]>,
    /// `[out_channels][in/groups * kh * kw]` weights minus their zero point (depthwise kernel).
    pub(crate) raw: Arc<[i16]>,
    /// When every weight minus its zero point fits 7 bits (`-64..=63`, the `vpmaddubsw`
    /// kernel), or 8 bits on a CPU with 256-bit VNNI (the `vpdpbusd` kernel): four input
    /// channels per word (`[group][panel][quad][tap][MR]`), and each output channel's weight
    /// sum for the activation zero-point correction.
    pub(crate) quads: Option<Arc<Quads>>,
    /// A depthwise conv's weights minus their zero points as f32, for the float-lane kernel
    /// (exact while the kernel has at most [`EXACT_F32_TAPS`] taps; `None` otherwise).
    pub(crate) float: Option<Arc<PackedConvWeights>>,
}

/// Weights packed four channels per word (bytes) for the u8 x i8 kernels.
#[derive(Debug, Clone)]
pub(crate) struct Quads {
    /// Channel quads per group.
    pub count: usize,
    /// Every weight fits 7 bits, so the AVX2 `vpmaddubsw` kernel is exact on them (8-bit
    /// weights need `vpdpbusd`).
    pub seven_bit: bool,
    pub panels: Vec<u32>,
    /// `sum (w - zero_point)` per output channel.
    pub sums: Vec<i32>,
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
        crate::conv::check_groups(oc, groups)?;
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
        let seven_bit = raw.iter().all(|v| (-64..=63).contains(v));
        let eight_bit = raw.iter().all(|v| (-128..=127).contains(v));
        let quads = (seven_bit || (eight_bit && crate::cpu::features().vnni_256()))
            .then(|| pack_quads(&raw, shape, groups, seven_bit));
        let float = (icg == 1 && oc == groups && taps <= EXACT_F32_TAPS)
            .then(|| {
                let values: Vec<f32> = raw.iter().map(|&v| f32::from(v)).collect();
                PackedConvWeights::new(&values, shape, groups, None).ok()
            })
            .flatten();
        Ok(Self {
            shape,
            groups,
            pairs,
            panels: panels.into(),
            raw: raw.into(),
            quads: quads.map(Arc::new),
            float: float.map(Arc::new),
        })
    }

    /// The same weights with the kernel's two spatial axes swapped, when one of them is 1 (the
    /// taps keep their order): a `[kh, 1]` kernel over `[N, C, H, 1]` is a `[1, kh]` one over
    /// the same memory read as `[N, C, 1, H]`. Shares the packed weights.
    pub(crate) fn spatial_swapped(&self) -> Option<Self> {
        let [oc, icg, kh, kw] = self.shape;
        (kh == 1 || kw == 1).then(|| Self {
            shape: [oc, icg, kw, kh],
            ..self.clone()
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

    /// Reduction steps of one quad panel: channel quads x kh x kw.
    pub(crate) fn quad_steps(&self) -> usize {
        self.quads.as_ref().map_or(0, |q| q.count) * self.shape[2] * self.shape[3]
    }

    /// Quad panel `p` of group `g`: `quad_steps * MR` words.
    pub(crate) fn quad_panel(&self, g: usize, p: usize) -> &[u32] {
        let len = self.quad_steps() * MR;
        let q = self.quads.as_ref().map_or(&[][..], |q| &q.panels[..]);
        &q[(g * self.panels_per_group() + p) * len..][..len]
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

/// Packs 8-bit weights (`raw`, zero points removed) four input channels per word.
fn pack_quads(raw: &[i16], [oc, icg, kh, kw]: [usize; 4], groups: usize, seven_bit: bool) -> Quads {
    let count = icg.div_ceil(4);
    let (ocg, taps, k) = (oc / groups, kh * kw, icg * kh * kw);
    let panels_g = ocg.div_ceil(MR);
    let steps = count * taps;
    let mut panels = vec![0u32; groups * panels_g * steps * MR];
    for (gp, panel) in panels.chunks_exact_mut(steps * MR).enumerate() {
        let (g, p) = (gp / panels_g, gp % panels_g);
        for r in 0..MR.min(ocg - p * MR) {
            let filter = &raw[(g * ocg + p * MR + r) * k..][..k];
            for q in 0..count {
                for t in 0..taps {
                    let mut word = 0u32;
                    for l in 0..4 {
                        let ci = 4 * q + l;
                        if ci < icg {
                            word |= u32::from(filter[ci * taps + t] as i8 as u8) << (8 * l);
                        }
                    }
                    panel[(q * taps + t) * MR + r] = word;
                }
            }
        }
    }
    let sums = raw
        .chunks_exact(k)
        .map(|f| f.iter().map(|&v| i32::from(v)).sum())
        .collect();
    Quads {
        count,
        seven_bit,
        panels,
        sums,
    }
}
