//! Epilogue description and weights packed for the microkernel.

use std::sync::OnceLock;

use super::MR;
use crate::KernelError;
use crate::f32::linear::PackedLinear;

/// What happens to each output value after the sum of products:
/// `y = clamp(affine(acc + bias[c]) + residual, min, max)`, where `affine` is the weights'
/// optional per-channel scale and shift ([`PackedConvWeights::with_affine`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epilogue {
    /// Lower clamp (`0` for Relu, `f32::NEG_INFINITY` for none).
    pub min: f32,
    /// Upper clamp (`f32::INFINITY` for none).
    pub max: f32,
    /// The output buffer already holds a residual to add (it is read, then overwritten).
    pub accumulate: bool,
}

impl Default for Epilogue {
    fn default() -> Self {
        Self {
            min: f32::NEG_INFINITY,
            max: f32::INFINITY,
            accumulate: false,
        }
    }
}

/// Convolution weights `[out, in/groups, kh, kw]` packed once into panels of [`MR`] output
/// channels: per group, per panel, `k`-major with `MR` values per step (zero-padded rows).
#[derive(Clone, Debug)]
pub struct PackedConvWeights {
    /// Output channels (all groups).
    pub out_channels: usize,
    /// Input channels per group.
    pub in_per_group: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Groups.
    pub groups: usize,
    /// Bias per output channel (zeros when the conv has none).
    pub bias: Vec<f32>,
    /// Per output channel, a scale and a shift applied after the bias as two f32 operations,
    /// `(acc + bias) * scale + shift` (a `BatchNormalization` that followed the conv).
    pub affine: Option<(Vec<f32>, Vec<f32>)>,
    pub(crate) panels: Vec<f32>,
    /// The unpacked weights, kept for the depthwise kernel.
    pub(crate) raw: Vec<f32>,
    /// The weights as the `k` x `out` operand of a few-row product (one group), packed on the
    /// first call with few output pixels ([`super::few`]).
    linear: OnceLock<Option<PackedLinear>>,
}

impl PackedConvWeights {
    /// Packs `w` (row-major `[out, in/groups, kh, kw]`) and an optional bias.
    pub fn new(
        w: &[f32],
        shape: [usize; 4],
        groups: usize,
        bias: Option<&[f32]>,
    ) -> Result<Self, KernelError> {
        let [out, cin_g, kh, kw] = shape;
        if groups == 0 || out % groups != 0 || w.len() != out * cin_g * kh * kw {
            return Err(KernelError::Conv(format!(
                "weight {shape:?} with {} values does not fit {groups} groups",
                w.len()
            )));
        }
        if let Some(b) = bias
            && b.len() != out
        {
            return Err(KernelError::Conv(format!(
                "bias has {} values for {out} channels",
                b.len()
            )));
        }
        let k = cin_g * kh * kw;
        let out_g = out / groups;
        let panels_g = out_g.div_ceil(MR);
        let mut panels = vec![0f32; groups * panels_g * k * MR];
        for g in 0..groups {
            for p in 0..panels_g {
                let base = (g * panels_g + p) * k * MR;
                for r in 0..MR {
                    let co = p * MR + r;
                    if co >= out_g {
                        break;
                    }
                    let src = &w[(g * out_g + co) * k..][..k];
                    for (kk, &v) in src.iter().enumerate() {
                        panels[base + kk * MR + r] = v;
                    }
                }
            }
        }
        Ok(Self {
            out_channels: out,
            in_per_group: cin_g,
            kernel: [kh, kw],
            groups,
            bias: bias.map_or_else(|| vec![0.0; out], <[f32]>::to_vec),
            affine: None,
            panels,
            raw: w.to_vec(),
            linear: OnceLock::new(),
        })
    }

    /// Adds a per-channel `scale` and `shift` after the bias: `(acc + bias) * scale + shift`,
    /// each operation rounded to f32, so the result equals running the two steps apart.
    pub fn with_affine(mut self, scale: Vec<f32>, shift: Vec<f32>) -> Result<Self, KernelError> {
        if scale.len() != self.out_channels || shift.len() != self.out_channels {
            return Err(KernelError::Conv(format!(
                "affine has {} scales and {} shifts for {} channels",
                scale.len(),
                shift.len(),
                self.out_channels
            )));
        }
        self.affine = Some((scale, shift));
        Ok(self)
    }

    /// The bias and affine terms of output channels `co..co + rows`.
    pub(crate) fn terms(&self, co: usize, rows: usize) -> Terms<'_> {
        Terms {
            bias: &self.bias[co..co + rows],
            affine: self
                .affine
                .as_ref()
                .map(|(s, t)| (&s[co..co + rows], &t[co..co + rows])),
        }
    }

    /// Reduction length `in/groups * kh * kw`.
    pub fn k(&self) -> usize {
        self.in_per_group * self.kernel[0] * self.kernel[1]
    }

    /// Panels per group.
    pub fn panels_per_group(&self) -> usize {
        (self.out_channels / self.groups).div_ceil(MR)
    }

    /// The packed panel `p` of group `g`.
    pub(crate) fn panel(&self, g: usize, p: usize) -> &[f32] {
        let len = self.k() * MR;
        &self.panels[(g * self.panels_per_group() + p) * len..][..len]
    }

    /// The weights of a one-group convolution as a `k` x `out` product operand, packed on first
    /// use (the few-pixel and small-plane paths); an error for several groups.
    pub(crate) fn linear(&self) -> Result<&PackedLinear, KernelError> {
        self.linear
            .get_or_init(|| {
                (self.groups == 1)
                    .then(|| PackedLinear::new(&self.raw, self.k(), self.out_channels, true))
                    .flatten()
            })
            .as_ref()
            .ok_or_else(|| {
                KernelError::Conv(format!(
                    "a convolution in {} groups has no single product operand",
                    self.groups
                ))
            })
    }

    /// True when every group maps one input channel to one output channel.
    pub fn is_depthwise(&self) -> bool {
        self.in_per_group == 1 && self.out_channels == self.groups
    }
}

/// The per-channel terms of one tile's rows: the bias, then an optional scale and shift.
#[derive(Clone, Copy)]
pub struct Terms<'a> {
    /// Added to the sum of products.
    pub bias: &'a [f32],
    /// Scale and shift applied after the bias.
    pub affine: Option<(&'a [f32], &'a [f32])>,
}

impl Terms<'_> {
    /// The value of row `r` after the bias and affine steps.
    #[inline]
    pub fn apply(&self, r: usize, acc: f32) -> f32 {
        let v = acc + self.bias[r];
        match self.affine {
            Some((s, t)) => v * s[r] + t[r],
            None => v,
        }
    }
}
