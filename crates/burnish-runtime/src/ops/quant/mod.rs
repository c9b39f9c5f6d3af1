//! Quantized (int8) operators: ONNX QDQ and QOperator ops, onnxruntime's `com.microsoft`
//! quantized ops, and the `burnish`-domain `QConv` / `QMatMul` that the quantizer
//! (`crates/burnish-quant`) emits so that consecutive int8 layers never round-trip through f32.
//! GEMMs and convolutions run on `burnish-kernels` (exact i32 accumulation, requantization in
//! the kernel epilogue; convolutions on its direct kernel, no im2col); constant weights are
//! packed once, when the session is built.
//!
//! ## Numerics (bit-exact with onnxruntime)
//!
//! * `QuantizeLinear`: `q = saturate(round_half_even(x / scale) + zero_point)` (a division,
//!   not a multiplication by the reciprocal, like ORT).
//! * `DequantizeLinear`: `x = f32(q - zero_point) * scale`.
//! * Integer-output GEMM/conv (`QLinearConv`, `QLinearMatMul`, `QConv`/`QMatMul` with an i32
//!   bias): `acc = sum (x - x_zp) * (w - w_zp)` exactly in i32, then
//!   `q = saturate(round_half_even(f32(acc + bias[c]) * m[c]) + y_zp)` with
//!   `m[c] = x_scale * w_scale[c] / y_scale` evaluated in f32 left to right (ORT's
//!   `MlasRequantizeOutput`).
//!
//! ## `burnish`-domain contract: `QConv` and `QMatMul`
//!
//! Both are the QLinear op of the same name plus an optional bias and a fused activation. They
//! replace the QDQ pattern `DQ(x), DQ(w) [, DQ(bias) or f32 bias] -> Conv | MatMul | Gemm
//! [-> Relu | Clip] -> Q`.
//!
//! | # | `QConv` input | `QMatMul` input | type / shape |
//! |---|---|---|---|
//! | 0 | `x` | `a` | u8 or i8; `QConv`: NCHW (or NCW); `QMatMul`: rank >= 1, last dim K |
//! | 1 | `x_scale` | `a_scale` | f32 scalar (per tensor) |
//! | 2 | `x_zero_point` | `a_zero_point` | scalar, same type as input 0 |
//! | 3 | `w` | `b` | i8 or u8, **constant** (initializer); `QConv`: `[M, C/group, kH, kW]`; `QMatMul`: `[K, N]` (`[N, K]` with `transB = 1`) |
//! | 4 | `w_scale` | `b_scale` | f32, scalar or per output channel `[M]` / `[N]` |
//! | 5 | `w_zero_point` | `b_zero_point` | type of input 3, scalar or per channel; usually 0 (symmetric) |
//! | 6 | `y_scale` | `y_scale` | f32 scalar |
//! | 7 | `y_zero_point` | `y_zero_point` | u8 or i8 scalar; **its type is the output type** |
//! | 8 | `bias` (optional) | `bias` (optional) | `[M]` / `[N]`: **i32** quantized with scale `x_scale * w_scale[c]` and zero point 0 (exactly as `QLinearConv`'s `B`, what ORT's quantizer writes for DQ(bias)), **or f32** (a float bias added before output quantization) |
//! | 9 | `z` (optional) | - | `QConv` only: a residual, u8 or i8, the output's shape (NCHW) |
//! | 10 | `z_scale` | - | f32 scalar; required with `z` |
//! | 11 | `z_zero_point` | - | scalar of `z`'s type (default 0) |
//!
//! | attribute | op | meaning |
//! |---|---|---|
//! | `auto_pad`, `pads`, `strides`, `dilations`, `group`, `kernel_shape` | `QConv` | as ONNX `Conv` |
//! | `transB` (int, default 0) | `QMatMul` | 1: `b` is stored `[N, K]` (a `Gemm` with `transB = 1`); transposed once at build |
//! | `activation` (string, optional) | both | `Relu` or `Clip`, folded into the output clamp |
//! | `activation_min`, `activation_max` (float, default -inf / +inf) | both | `Clip` bounds in real units |
//!
//! Output 0: `y`, the type of `y_zero_point`, the quantized result of the float op:
//!
//! * i32 bias (or none): `q = saturate(round_half_even(f32(acc + bias[c]) * m[c]) + y_zp)` as
//!   above (bit-exact with `QLinearConv`/`QLinearMatMul` followed by the activation).
//! * f32 bias: `q = saturate(round_half_even((f32(acc) * (x_scale * w_scale[c]) + bias[c]) / y_scale) + y_zp)`.
//! * with a residual `z` (`QConv` inputs 9-11): the conv, the bias and `DQ(z)` are added in
//!   real units and quantized once:
//!   `q = saturate(round_half_even((f32(acc) * (x_scale * w_scale[c]) + bias_f[c] + f32(z - z_zp) * z_scale) / y_scale) + y_zp)`,
//!   each step rounded to f32 left to right (no fused multiply-add), where `bias_f[c]` is the
//!   f32 bias, or `f32(bias_i32[c]) * (x_scale * w_scale[c])` for an i32 one (0 without a
//!   bias); then the activation clamp below, so the op is
//!   `Q(activation(conv + bias + DQ(z)))`. Against a float reference computed from the
//!   dequantized operands it is at most one code off (f32 rounding order), and it rounds once
//!   where a QDQ graph (or ORT's `QLinearConv -> QLinearAdd`) rounds the conv output first.
//! * `Relu`: `q = max(q, y_zp)`; `Clip`: `q = clamp(q, Q(min), Q(max))` with `Q` the output
//!   QuantizeLinear. Both are exact: quantization is monotonic, so clamping after quantizing
//!   equals quantizing the clamped value.
//!
//! `Gemm` maps to `QMatMul` only with `alpha = beta = 1` and `transA = 0` (its `C` becomes the
//! bias); anything else stays in QDQ form. `MatMul` with a non-constant `b` is accepted (packed
//! per call), as are batched (rank > 2) operands with numpy broadcasting.
//!
//! ## Other domains
//!
//! `com.microsoft`: `QGemm` (QOperator `Gemm`: i32 `C` with scale `alpha * a_scale * b_scale`,
//! u8/i8 output when `y_scale` is given, else f32) and `DynamicQuantizeMatMul` (f32 `A`
//! quantized per call to u8 with ORT's dynamic parameters, constant int8 `B`, f32 output).

mod conv;
mod conv_params;
mod epilogue;
pub(crate) mod host;
mod lut;
mod matmul;
mod ms_ops;
mod narrow;
mod qdq;

pub use conv::{conv_integer, qconv, qlinear_conv};
pub use lut::{qlut, qlut2};
pub use matmul::{matmul_integer, qlinear_matmul, qmatmul};
pub use ms_ops::{dynamic_quantize_matmul, qgemm};
pub use qdq::{dequantize_linear, dynamic_quantize_linear, quantize_linear};

use super::Builder;

/// The builder for a quantized op of the `burnish` domain.
pub fn burnish_builder(op_type: &str) -> Option<Builder> {
    Some(match op_type {
        burnish_model::domain::QCONV => qconv,
        burnish_model::domain::QMATMUL => qmatmul,
        burnish_model::domain::QLUT => qlut,
        burnish_model::domain::QLUT2 => qlut2,
        _ => return None,
    })
}

/// The builder for a supported `com.microsoft` op.
pub fn microsoft_builder(op_type: &str) -> Option<Builder> {
    Some(match op_type {
        "QGemm" => qgemm,
        "DynamicQuantizeMatMul" => dynamic_quantize_matmul,
        _ => return None,
    })
}
