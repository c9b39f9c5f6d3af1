//! What to quantize and how: the [`QuantConfig`] and its parts, parsed from CLI-style strings.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::QuantError;

/// The quantization mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantMode {
    /// int8 weights (symmetric), activations quantized per call (`DynamicQuantizeLinear`, u8).
    DynamicInt8,
    /// int8 weights, activations quantized with ranges from calibration data.
    StaticInt8,
    /// Weights and compute in float16 (inputs and outputs stay float32).
    F16,
    /// Weights and compute in bfloat16 (inputs and outputs stay float32).
    Bf16,
    /// Weight-only 4-bit codes in blocks along the reduction axis, for MatMul/Gemm.
    Int4Weights,
}

impl QuantMode {
    /// True for the int8 modes (`dynamic-int8`, `static-int8`).
    pub fn is_int8(self) -> bool {
        matches!(self, QuantMode::DynamicInt8 | QuantMode::StaticInt8)
    }

    /// True for the modes that need calibration data.
    pub fn needs_calibration(self) -> bool {
        self == QuantMode::StaticInt8
    }
}

impl FromStr for QuantMode {
    type Err = QuantError;
    fn from_str(s: &str) -> Result<Self, QuantError> {
        Ok(match s {
            "dynamic-int8" => QuantMode::DynamicInt8,
            "static-int8" => QuantMode::StaticInt8,
            "f16" | "fp16" => QuantMode::F16,
            "bf16" => QuantMode::Bf16,
            "int4-weights" | "int4" => QuantMode::Int4Weights,
            other => {
                return Err(QuantError::BadSetting {
                    what: "quantization mode",
                    value: other.to_string(),
                    expected: "dynamic-int8, static-int8, f16, bf16 or int4-weights",
                });
            }
        })
    }
}

impl fmt::Display for QuantMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantMode::DynamicInt8 => "dynamic-int8",
            QuantMode::StaticInt8 => "static-int8",
            QuantMode::F16 => "f16",
            QuantMode::Bf16 => "bf16",
            QuantMode::Int4Weights => "int4-weights",
        })
    }
}

/// How an activation range is chosen from calibration statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeMethod {
    /// The observed minimum and maximum.
    MinMax,
    /// The given percentile of |x| (e.g. 99.99), clipping the rest.
    Percentile(f64),
    /// The threshold minimizing the KL divergence between the histogram and its quantized
    /// version (TensorRT's entropy calibration).
    Entropy,
    /// The threshold minimizing the expected squared error (rounding plus clipping).
    Mse,
}

impl FromStr for RangeMethod {
    type Err = QuantError;
    fn from_str(s: &str) -> Result<Self, QuantError> {
        let bad = || QuantError::BadSetting {
            what: "calibration method",
            value: s.to_string(),
            expected: "minmax, percentile:P (0 < P <= 100), entropy or mse",
        };
        Ok(match s {
            "minmax" => RangeMethod::MinMax,
            "entropy" | "kl" => RangeMethod::Entropy,
            "mse" => RangeMethod::Mse,
            "percentile" => RangeMethod::Percentile(99.99),
            other => {
                let p: f64 = other
                    .strip_prefix("percentile:")
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(bad)?;
                if !(p > 0.0 && p <= 100.0) {
                    return Err(bad());
                }
                RangeMethod::Percentile(p)
            }
        })
    }
}

impl fmt::Display for RangeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeMethod::MinMax => f.write_str("minmax"),
            RangeMethod::Percentile(p) => write!(f, "percentile:{p}"),
            RangeMethod::Entropy => f.write_str("entropy"),
            RangeMethod::Mse => f.write_str("mse"),
        }
    }
}

impl Serialize for RangeMethod {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Element type of quantized activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivationType {
    /// uint8, zero point in 0..=255.
    U8,
    /// int8, zero point in -128..=127.
    S8,
}

impl ActivationType {
    /// The representable range `(qmin, qmax)`.
    pub fn range(self) -> (i32, i32) {
        match self {
            ActivationType::U8 => (0, 255),
            ActivationType::S8 => (-128, 127),
        }
    }
}

impl FromStr for ActivationType {
    type Err = QuantError;
    fn from_str(s: &str) -> Result<Self, QuantError> {
        match s {
            "u8" | "uint8" => Ok(ActivationType::U8),
            "s8" | "i8" | "int8" => Ok(ActivationType::S8),
            other => Err(QuantError::BadSetting {
                what: "activation type",
                value: other.to_string(),
                expected: "u8 or s8",
            }),
        }
    }
}

/// Bits of int8 convolution weight codes.
///
/// On AVX2 without VNNI, burnish's int8 convolution multiplies with `vpmaddubsw` when every
/// weight code fits in 7 bits (`-64..=63`: two u8 x i8 products then stay below 2^15, so the
/// saturating i16 sums are exact) and with exact 16-bit `vpmaddwd` otherwise; the first runs
/// ~1.4x faster (measured with `cargo bench -p burnish-kernels --bench madd`). `Auto` takes 7
/// bits for `Conv` weights exactly there (like onnxruntime's `reduce_range`), 8 bits elsewhere
/// and for `MatMul`/`Gemm` (their GEMM kernel gains nothing from 7 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightBits {
    /// 7 bits for `Conv` weights where this CPU's int8 conv kernel is AVX2 without VNNI.
    Auto,
    /// Codes in `-127..=127`.
    #[serde(rename = "8")]
    Eight,
    /// `Conv` weight codes in `-63..=63` (half the resolution, the fast AVX2 route).
    #[serde(rename = "7")]
    Seven,
    /// `MatMul`/`Gemm` weight codes in `-31..=31`, `Conv` weights 7 bits: a quarter of the
    /// resolution for the GEMM's AVX2 route that adds two `vpmaddubsw` results in 16 bits
    /// before widening (exact: four u8 x 6-bit products stay below 2^15), ~1.2x its 7-bit
    /// speed. The direct conv gained nothing from 6 bits (measured), so `Conv` keeps 7.
    /// Opt-in: it costs accuracy.
    #[serde(rename = "6")]
    Six,
}

impl FromStr for WeightBits {
    type Err = QuantError;
    fn from_str(s: &str) -> Result<Self, QuantError> {
        match s {
            "auto" => Ok(WeightBits::Auto),
            "8" => Ok(WeightBits::Eight),
            "7" => Ok(WeightBits::Seven),
            "6" => Ok(WeightBits::Six),
            other => Err(QuantError::BadSetting {
                what: "weight bits",
                value: other.to_string(),
                expected: "auto, 8, 7 or 6",
            }),
        }
    }
}

impl WeightBits {
    /// The largest int8 weight code of an `op_type` node on this CPU (symmetric codes in
    /// `-max..=max`). `auto` gives 7 bits (63) to `Conv` on AVX2 without VNNI only: there the
    /// direct conv is compute-bound and the `vpmaddubsw` route pays, while the MatMul/Gemm
    /// layers of the models measured were too small to gain (bert dynamic-int8 1.04x, not
    /// significant) and lost 2-7 dB of SNR. `7` gives 7 bits to every int8 weight, `6` gives
    /// 6 bits (31) to `MatMul`/`Gemm` weights and 7 to `Conv`.
    pub fn max_code(self, op_type: &str) -> u8 {
        match self {
            WeightBits::Auto
                if op_type == "Conv"
                    && burnish_kernels::Kernel::best() == burnish_kernels::Kernel::Avx2 =>
            {
                63
            }
            WeightBits::Auto | WeightBits::Eight => 127,
            WeightBits::Seven => 63,
            WeightBits::Six if op_type == "Conv" => 63,
            WeightBits::Six => 31,
        }
    }

    /// The number of bits of the codes [`WeightBits::max_code`] allows, sign included.
    pub fn bits(self, op_type: &str) -> u32 {
        match self.max_code(op_type) {
            127 => 8,
            63 => 7,
            _ => 6,
        }
    }
}

/// The runtime a `static-int8` QDQ graph is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QdqTarget {
    /// A standard QDQ consumer (onnxruntime's QDQ transformers): besides Conv/MatMul/Gemm,
    /// the ops onnxruntime runs on int8 (`Add`, `Mul`, `Concat`, pools, `Sigmoid`, ...) get
    /// `DQ -> op -> Q` and the data-movement ops between them keep the codes, so its fusions
    /// (`QLinearConv`, `QLinearAdd`, `QLinearConcat`, QDQ propagation) cover the graph.
    #[default]
    Onnxruntime,
    /// burnish's int8 ops (`lower_qdq`): onnxruntime's layout, less the anchors burnish would
    /// run in float anyway or slower on int8 (`MatMul` of two activations, `Softmax`, and
    /// `Add`/`Mul` of two activations unless a residual after a `Conv` or a per-plane gate).
    Burnish,
}

impl fmt::Display for QdqTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QdqTarget::Onnxruntime => "onnxruntime",
            QdqTarget::Burnish => "burnish",
        })
    }
}

/// Everything [`crate::quantize`] needs to know.
#[derive(Debug, Clone)]
pub struct QuantConfig {
    /// The mode.
    pub mode: QuantMode,
    /// Range method for static activations.
    pub method: RangeMethod,
    /// Per-output-channel weight scales (per-tensor when false).
    pub per_channel: bool,
    /// Element type of static activations (dynamic activations are always u8, as ONNX's
    /// `DynamicQuantizeLinear` defines them).
    pub activation_type: ActivationType,
    /// Nodes to keep in float (by name).
    pub exclude_nodes: Vec<String>,
    /// Block size of `int4-weights` (32 or 128 are the usual choices).
    pub block_size: usize,
    /// Bits of `Conv` weight codes (int8 modes).
    pub weight_bits: WeightBits,
    /// Calibration samples per interpreter run.
    pub calibration_batch: usize,
    /// `f16`/`bf16`: convert the computation to the half type too, not only the stored weights
    /// (for backends with native half-precision kernels; burnish's CPU backend has none).
    pub half_compute: bool,
    /// The runtime the `static-int8` QDQ layout targets.
    pub target: QdqTarget,
}

impl Default for QuantConfig {
    fn default() -> Self {
        Self {
            mode: QuantMode::StaticInt8,
            method: RangeMethod::MinMax,
            per_channel: true,
            activation_type: ActivationType::U8,
            exclude_nodes: Vec::new(),
            block_size: 32,
            weight_bits: WeightBits::Auto,
            calibration_batch: 32,
            half_compute: false,
            target: QdqTarget::default(),
        }
    }
}
