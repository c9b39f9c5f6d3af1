//! What a quantized GEMM or convolution writes: exact i32 sums, dequantized f32, or requantized
//! u8/i8 codes (with a fused `Relu`/`Clip`), and the parameters each needs.

use burnish_kernels::Requant;
use burnish_model::{Attribute, DType};

use super::host::{f32_value, int_value};
use crate::ops::BuildCtx;
use crate::value::Value;

/// The activation folded into the output clamp of `QConv`/`QMatMul`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Activation {
    /// No clamp beyond the output type's range.
    None,
    /// `max(y, 0)`.
    Relu,
    /// `clamp(y, min, max)` in real units.
    Clip(f32, f32),
}

impl Activation {
    /// Reads the `activation`, `activation_min` and `activation_max` attributes.
    pub(crate) fn parse(ctx: &BuildCtx) -> Result<Self, String> {
        match ctx.node.attrs.get(burnish_model::domain::ACTIVATION) {
            None => Ok(Activation::None),
            Some(Attribute::String(s)) if s == "Relu" => Ok(Activation::Relu),
            Some(Attribute::String(s)) if s == "Clip" => Ok(Activation::Clip(
                ctx.float("activation_min", f32::NEG_INFINITY)?,
                ctx.float("activation_max", f32::INFINITY)?,
            )),
            Some(Attribute::String(s)) => Err(format!(
                "unsupported activation `{s}` (QConv/QMatMul fold `Relu` and `Clip`)"
            )),
            Some(other) => Err(format!(
                "`activation` must be a string, found {}",
                other.kind()
            )),
        }
    }

    /// Output code bounds within `lo..=hi` for output scale and zero point: exact because
    /// quantization is monotonic.
    fn bounds(self, lo: i32, hi: i32, scale: f32, zp: i32) -> (i32, i32) {
        let q =
            |v: f32| ((v / scale).round_ties_even() + zp as f32).clamp(lo as f32, hi as f32) as i32;
        match self {
            Activation::None => (lo, hi),
            Activation::Relu => (zp.clamp(lo, hi), hi),
            Activation::Clip(min, max) => (q(min).max(lo), q(max).min(hi)),
        }
    }
}

/// The output of one quantized GEMM/convolution.
#[derive(Clone)]
pub(crate) enum Epilogue {
    /// Exact i32 sums (`MatMulInteger`, `ConvInteger`).
    I32,
    /// `f32(acc) * scales[c] + bias[c]`.
    F32 {
        /// Per-channel `a_scale * b_scale[c]`.
        scales: Vec<f32>,
        /// Optional float bias.
        bias: Option<Vec<f32>>,
    },
    /// Codes: `saturate(round(f32(acc + bias[c]) * multiplier[c]) + zp)` clamped to `min..=max`.
    Quant {
        /// `U8` or `I8`.
        dtype: DType,
        /// Per-channel `a_scale * b_scale[c] / y_scale`.
        multiplier: Vec<f32>,
        /// Optional i32 bias.
        bias: Option<Vec<i32>>,
        /// Output zero point.
        zp: i32,
        /// Output code bounds.
        min: i32,
        /// Output code bounds.
        max: i32,
    },
    /// Codes of `f32(acc) * scales[c] + bias[c]` (a float bias): computed as [`Epilogue::F32`]
    /// and then quantized.
    QuantFloatBias {
        /// As in [`Epilogue::F32`].
        scales: Vec<f32>,
        /// Float bias.
        bias: Vec<f32>,
        /// `U8` or `I8`.
        dtype: DType,
        /// Output scale.
        y_scale: f32,
        /// Output zero point.
        zp: i32,
        /// Output code bounds.
        min: i32,
        /// Output code bounds.
        max: i32,
    },
}

/// The bias of a quantized op: i32 in accumulator units, or f32.
pub(crate) enum Bias {
    /// i32, scale `a_scale * b_scale[c]`.
    Int(Vec<i32>),
    /// f32, added in real units.
    Float(Vec<f32>),
}

/// Builds the requantizing epilogue for a u8/i8 output of type `dtype`.
pub(crate) fn quant_epilogue(
    a_scale: f32,
    b_scales: &[f32],
    y_scale: f32,
    dtype: DType,
    zp: i32,
    bias: Option<Bias>,
    act: Activation,
) -> Result<Epilogue, String> {
    let (lo, hi) = match dtype {
        DType::U8 => (0, 255),
        DType::I8 => (-128, 127),
        other => return Err(format!("quantized output type {other} is not supported")),
    };
    if !(lo..=hi).contains(&zp) {
        return Err(format!(
            "output zero point {zp} is outside the {dtype} range"
        ));
    }
    let (min, max) = act.bounds(lo, hi, y_scale, zp);
    Ok(match bias {
        Some(Bias::Float(bias)) => Epilogue::QuantFloatBias {
            scales: b_scales.iter().map(|s| a_scale * s).collect(),
            bias,
            dtype,
            y_scale,
            zp,
            min,
            max,
        },
        Some(Bias::Int(bias)) => Epilogue::Quant {
            dtype,
            multiplier: b_scales.iter().map(|s| a_scale * s / y_scale).collect(),
            bias: Some(bias),
            zp,
            min,
            max,
        },
        None => Epilogue::Quant {
            dtype,
            multiplier: b_scales.iter().map(|s| a_scale * s / y_scale).collect(),
            bias: None,
            zp,
            min,
            max,
        },
    })
}

/// An output buffer of the epilogue's type.
pub(crate) enum OutBuf {
    /// i32 sums.
    I32(Vec<i32>),
    /// f32 values.
    F32(Vec<f32>),
    /// u8 codes.
    U8(Vec<u8>),
    /// i8 codes.
    I8(Vec<i8>),
}

impl OutBuf {
    /// The buffers of several batch matrices, in order.
    pub(crate) fn concat(parts: Vec<OutBuf>) -> OutBuf {
        let mut it = parts.into_iter();
        let Some(mut first) = it.next() else {
            return OutBuf::F32(Vec::new());
        };
        for part in it {
            match (&mut first, part) {
                (OutBuf::I32(a), OutBuf::I32(b)) => a.extend(b),
                (OutBuf::F32(a), OutBuf::F32(b)) => a.extend(b),
                (OutBuf::U8(a), OutBuf::U8(b)) => a.extend(b),
                (OutBuf::I8(a), OutBuf::I8(b)) => a.extend(b),
                _ => {}
            }
        }
        first
    }

    /// The value of `shape` adopting the buffer.
    pub(crate) fn into_value(self, shape: Vec<usize>) -> Value {
        match self {
            OutBuf::I32(v) => int_value(v, shape),
            OutBuf::F32(v) => f32_value(v, shape),
            OutBuf::U8(v) => int_value(v, shape),
            OutBuf::I8(v) => int_value(v, shape),
        }
    }
}

impl Epilogue {
    /// The kernel-side requantization for columns `c0..c0 + n`.
    pub(crate) fn requant(&self) -> Option<Requant<'_>> {
        match self {
            Epilogue::Quant {
                multiplier,
                bias,
                zp,
                min,
                max,
                ..
            } => Some(Requant {
                multiplier,
                bias: bias.as_deref(),
                zero_point: *zp,
                min: *min,
                max: *max,
            }),
            _ => None,
        }
    }

    /// Runs `fill` on an output buffer of `len` elements of the right type.
    ///
    /// `fill` gets one of: `I32`, `F32` (also for the float-bias path, quantized afterwards),
    /// `U8`, `I8`.
    pub(crate) fn produce(
        &self,
        len: usize,
        fill: impl FnOnce(&mut OutBuf) -> Result<(), String>,
    ) -> Result<OutBuf, String> {
        let mut buf = match self {
            Epilogue::I32 => OutBuf::I32(vec![0; len]),
            Epilogue::F32 { .. } | Epilogue::QuantFloatBias { .. } => OutBuf::F32(vec![0.0; len]),
            Epilogue::Quant {
                dtype: DType::I8, ..
            } => OutBuf::I8(vec![0; len]),
            Epilogue::Quant { .. } => OutBuf::U8(vec![0; len]),
        };
        fill(&mut buf)?;
        if let (
            Epilogue::QuantFloatBias {
                dtype,
                y_scale,
                zp,
                min,
                max,
                ..
            },
            OutBuf::F32(v),
        ) = (self, &buf)
        {
            let q = |x: f32| {
                ((x / y_scale).round_ties_even() + *zp as f32).clamp(*min as f32, *max as f32)
                    as i32
            };
            buf = match dtype {
                DType::I8 => OutBuf::I8(v.iter().map(|&x| q(x) as i8).collect()),
                _ => OutBuf::U8(v.iter().map(|&x| q(x) as u8).collect()),
            };
        }
        Ok(buf)
    }

    /// Per-channel scales and bias for the f32-producing epilogues.
    pub(crate) fn scaled(&self) -> Option<(&[f32], Option<&[f32]>)> {
        match self {
            Epilogue::F32 { scales, bias } => Some((scales, bias.as_deref())),
            Epilogue::QuantFloatBias { scales, bias, .. } => Some((scales, Some(bias))),
            _ => None,
        }
    }
}
