//! Public int8 GEMM entry points: raw i32, dequantized f32 and requantized u8 outputs.
//!
//! All compute `C[m, n] = sum_k (A[m, k] - a_zero_point) * B[k, n]` exactly in i32. The kernel
//! multiplies the raw activations; the zero point is removed in the epilogue as
//! `acc - a_zero_point * col_sum(B)[n]` (the column sums are computed when B is packed).

use crate::driver::run;
use crate::kernel::imp;
use crate::pack::{Activation, check_len, check_scale, pack_a};
use crate::{KernelError, PackedB};

/// Scale and zero point of a u8 output: `q = clamp(round_half_even(x / scale) + zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputQuant {
    /// Real value of one quantization step.
    pub scale: f32,
    /// The u8 code of real zero.
    pub zero_point: u8,
}

/// Exact integer GEMM: `out[i, j] = sum_k (a[i, k] - a_zero_point) * B[k, j]`.
///
/// `a` is row-major with `b.k()` columns (its row count is `a.len() / b.k()`), `out` row-major
/// `m` x `b.n()`. Exact while the true sums fit in i32, which [`crate::MAX_K`] guarantees.
pub fn gemm_i32<A: Activation>(
    a: &[A],
    a_zero_point: A,
    b: &PackedB,
    out: &mut [i32],
) -> Result<(), KernelError> {
    let (m, packed) = prepare(a, b, out.len())?;
    let zp = i32::from(a_zero_point.to_offset_u8());
    let corr = zero_point_correction(zp, b);
    run(b, &packed, m, out, |j0, acc, out| {
        for ((o, &v), &c) in out.iter_mut().zip(acc).zip(&corr[j0..]) {
            *o = v.wrapping_sub(c);
        }
    });
    Ok(())
}

/// [`gemm_i32`] for u8 activations with a zero point.
pub fn gemm_u8i8_i32(
    a: &[u8],
    a_zero_point: u8,
    b: &PackedB,
    out: &mut [i32],
) -> Result<(), KernelError> {
    gemm_i32(a, a_zero_point, b, out)
}

/// [`gemm_i32`] for symmetric i8 activations (zero point 0).
pub fn gemm_i8i8_i32(a: &[i8], b: &PackedB, out: &mut [i32]) -> Result<(), KernelError> {
    gemm_i32(a, 0, b, out)
}

/// Int8 GEMM with dequantization fused into the epilogue:
/// `out[i, j] = (acc[i, j] as f32) * (a_scale * b.scales()[j]) + bias[j]`, where `acc` is the
/// exact [`gemm_i32`] result.
pub fn gemm_requant<A: Activation>(
    a: &[A],
    a_zero_point: A,
    a_scale: f32,
    b: &PackedB,
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<(), KernelError> {
    let (m, packed) = prepare(a, b, out.len())?;
    let (scales, bias) = epilogue_params(a_scale, b, bias)?;
    let zp = i32::from(a_zero_point.to_offset_u8());
    let corr = zero_point_correction(zp, b);
    run(b, &packed, m, out, |j0, acc, out| {
        let params = corr[j0..].iter().zip(&scales[j0..]).zip(&bias[j0..]);
        for ((o, &v), ((&c, &scale), &bias)) in out.iter_mut().zip(acc).zip(params) {
            *o = dequantize(v, c, scale, bias);
        }
    });
    Ok(())
}

/// Int8 GEMM with a requantized u8 output: the [`gemm_requant`] value `x` becomes
/// `clamp(round_half_even(x / output.scale) + output.zero_point, 0, 255)` (ONNX
/// QuantizeLinear).
pub fn gemm_requant_u8<A: Activation>(
    a: &[A],
    a_zero_point: A,
    a_scale: f32,
    b: &PackedB,
    bias: Option<&[f32]>,
    output: OutputQuant,
    out: &mut [u8],
) -> Result<(), KernelError> {
    check_scale("output.scale", output.scale)?;
    let (m, packed) = prepare(a, b, out.len())?;
    let (scales, bias) = epilogue_params(a_scale, b, bias)?;
    let zp = i32::from(a_zero_point.to_offset_u8());
    let corr = zero_point_correction(zp, b);
    run(b, &packed, m, out, |j0, acc, out| {
        let params = corr[j0..].iter().zip(&scales[j0..]).zip(&bias[j0..]);
        for ((o, &v), ((&c, &scale), &bias)) in out.iter_mut().zip(acc).zip(params) {
            *o = quantize_u8(dequantize(v, c, scale, bias), output);
        }
    });
    Ok(())
}

/// The dequantized value of one raw kernel sum (the formula the references reproduce).
#[inline]
pub(crate) fn dequantize(acc: i32, correction: i32, scale: f32, bias: f32) -> f32 {
    acc.wrapping_sub(correction) as f32 * scale + bias
}

/// `a_zero_point * col_sum(B)[j]` for every column: what the raw sums carry beyond the
/// zero-point-corrected product.
fn zero_point_correction(zp: i32, b: &PackedB) -> Vec<i32> {
    b.col_sums().iter().map(|&s| zp.wrapping_mul(s)).collect()
}

/// ONNX QuantizeLinear to u8.
#[inline]
pub fn quantize_u8(x: f32, output: OutputQuant) -> u8 {
    ((x / output.scale).round_ties_even() + f32::from(output.zero_point)).clamp(0.0, 255.0) as u8
}

/// Validates shapes and packs A; returns the row count and packed A.
fn prepare<A: Activation>(
    a: &[A],
    b: &PackedB,
    out_len: usize,
) -> Result<(usize, Vec<u32>), KernelError> {
    let k = b.k();
    if !a.len().is_multiple_of(k) {
        return Err(KernelError::Length {
            what: "a (a multiple of k)",
            expected: a.len().div_ceil(k) * k,
            actual: a.len(),
        });
    }
    let m = a.len() / k;
    check_len("out", m * b.n(), out_len)?;
    Ok((m, pack_a(imp(b.kernel()), a, m, k)))
}

/// Per-column combined scales `a_scale * b_scale[j]` and the bias (zeros when absent).
fn epilogue_params(
    a_scale: f32,
    b: &PackedB,
    bias: Option<&[f32]>,
) -> Result<(Vec<f32>, Vec<f32>), KernelError> {
    check_scale("a_scale", a_scale)?;
    let bias = match bias {
        Some(bias) => {
            check_len("bias", b.n(), bias.len())?;
            bias.to_vec()
        }
        None => vec![0.0; b.n()],
    };
    Ok((b.scales().iter().map(|s| a_scale * s).collect(), bias))
}
