//! Public int8 GEMM entry points: raw i32, dequantized f32 and requantized u8 outputs.
//!
//! All compute `C[m, n] = sum_k (A[m, k] - a_zero_point) * B[k, n]` exactly in i32. The kernel
//! multiplies the raw activations; the zero point is removed in the epilogue as
//! `acc - a_zero_point * col_sum(B)[n]` (the column sums are computed when B is packed).

use crate::driver::run;
use crate::pack::{Activation, check_len, check_scale, pack_a};
use crate::requant::{QuantOutput, Requant};
use crate::{KernelError, PackedB};

/// Scale and zero point of a u8 output: `q = clamp(round_half_even(x / scale) + zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputQuant {
    /// Real value of one quantization step.
    pub scale: f32,
    /// The u8 code of real zero.
    pub zero_point: u8,
}

/// Exact integer GEMM: `out[i, j] = sum_k (a[i, k] - a_zero_point) * (B[k, j] - b_zp[j])`.
///
/// `a` is row-major with `b.k()` columns (its row count is `a.len() / b.k()`), `out` row-major
/// `m` x `b.n()`. Exact while the true sums fit in i32, which [`crate::MAX_K`] guarantees.
pub fn gemm_i32<A: Activation>(
    a: &[A],
    a_zero_point: A,
    b: &PackedB,
    out: &mut [i32],
) -> Result<(), KernelError> {
    run_exact(a, a_zero_point, b, out, |_, exact, out| {
        out.copy_from_slice(exact)
    })
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
    let (scales, bias) = epilogue_params(a_scale, b, bias)?;
    run_exact(a, a_zero_point, b, out, |j0, exact, out| {
        dequantize(exact, &scales[j0..], Some(&bias[j0..]), out)
    })
}

/// Int8 GEMM with explicit per-column scales in the epilogue:
/// `out[i, j] = (acc[i, j] as f32) * scales[j] + bias[j]` (`acc` as in [`gemm_i32`]), for
/// callers whose activation scale changes per call (dynamic quantization).
pub fn gemm_scaled<A: Activation>(
    a: &[A],
    a_zero_point: A,
    b: &PackedB,
    scales: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<(), KernelError> {
    check_len("scales", b.n(), scales.len())?;
    if let Some(bias) = bias {
        check_len("bias", b.n(), bias.len())?;
    }
    run_exact(a, a_zero_point, b, out, |j0, exact, out| {
        dequantize(exact, &scales[j0..], bias.map(|b| &b[j0..]), out)
    })
}

/// `out[j] = exact[j] as f32 * scales[j] (+ bias[j])`, eight lanes at a time with AVX2.
fn dequantize(exact: &[i32], scales: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::features().avx2_fma() {
        // SAFETY: AVX2 and FMA were detected.
        return unsafe { dequantize_avx2(exact, scales, bias, out) };
    }
    dequantize_lanes(exact, scales, bias, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn dequantize_avx2(exact: &[i32], scales: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    dequantize_lanes(exact, scales, bias, out);
}

#[inline(always)]
fn dequantize_lanes(exact: &[i32], scales: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    match bias {
        Some(bias) => {
            for ((o, &v), (&scale, &bias)) in out.iter_mut().zip(exact).zip(scales.iter().zip(bias))
            {
                *o = v as f32 * scale + bias;
            }
        }
        None => {
            for ((o, &v), &scale) in out.iter_mut().zip(exact).zip(scales) {
                *o = v as f32 * scale;
            }
        }
    }
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
    let (scales, bias) = epilogue_params(a_scale, b, bias)?;
    run_exact(a, a_zero_point, b, out, |j0, exact, out| {
        let params = scales[j0..].iter().zip(&bias[j0..]);
        for ((o, &v), (&scale, &bias)) in out.iter_mut().zip(exact).zip(params) {
            *o = quantize_u8(v as f32 * scale + bias, output);
        }
    })
}

/// Int8 GEMM with onnxruntime's integer requantization fused into the epilogue (see
/// [`Requant`]): bit-exact with ORT's `QLinearMatMul` / `QLinearConv`.
pub fn gemm_qlinear<A: Activation, O: QuantOutput>(
    a: &[A],
    a_zero_point: A,
    b: &PackedB,
    requant: &Requant<'_>,
    out: &mut [O],
) -> Result<(), KernelError> {
    requant.check::<O>(b.n())?;
    run_exact(a, a_zero_point, b, out, |j0, exact, out| {
        requant.apply(j0, exact, out)
    })
}

/// Runs the GEMM and hands `epi(j0, exact, out)` each row segment's exact sums
/// `sum_k (a - a_zp) * (b - b_zp)`.
fn run_exact<A, T, F>(
    a: &[A],
    a_zero_point: A,
    b: &PackedB,
    out: &mut [T],
    epi: F,
) -> Result<(), KernelError>
where
    A: Activation,
    T: Send,
    F: Fn(usize, &[i32], &mut [T]) + Sync,
{
    let (m, packed) = prepare(a, b, out.len())?;
    let zp = i32::from(a_zero_point.to_offset_u8());
    let init = zero_point_correction(zp, b);
    let row_terms = b.zero_points().map(|bzp| (bzp, row_terms(a, zp, m, b.k())));
    run(b, &packed, m, &init, out, |i, j0, exact, out| {
        if let Some((bzp, rows)) = &row_terms {
            let r = rows[i];
            for (e, &z) in exact.iter_mut().zip(&bzp[j0..]) {
                *e = e.wrapping_sub(z.wrapping_mul(r));
            }
        }
        epi(j0, exact, out);
    });
    Ok(())
}

/// `sum_k (a[i, k] - zp)` per row: what a weight zero point multiplies.
fn row_terms<A: Activation>(a: &[A], zp: i32, m: usize, k: usize) -> Vec<i32> {
    (0..m)
        .map(|i| {
            let s: i32 = a[i * k..][..k]
                .iter()
                .map(|v| i32::from(v.to_offset_u8()))
                .sum();
            s.wrapping_sub(zp.wrapping_mul(k as i32))
        })
        .collect()
}

/// `-a_zero_point * col_sum(B)[j]` for every column: the raw sums start from it, which removes
/// the activation zero point.
fn zero_point_correction(zp: i32, b: &PackedB) -> Vec<i32> {
    b.col_sums()
        .iter()
        .map(|&s| zp.wrapping_mul(s).wrapping_neg())
        .collect()
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
    Ok((m, pack_a(b.imp(), a, m, k)))
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
