//! Integer requantization as onnxruntime does it (`MlasRequantizeOutput`), fused into the GEMM
//! epilogue: `q = clamp(round_half_even(f32(acc + bias[j]) * multiplier[j]) + zero_point)`.

use crate::KernelError;
use crate::pack::check_len;

/// Quantized output element types: `u8` and `i8`.
pub trait QuantOutput: Copy + Send + Sync + Default + sealed::Sealed {
    /// Smallest code.
    const MIN: i32;
    /// Largest code.
    const MAX: i32;
    /// The code for a value already inside `MIN..=MAX`.
    fn from_code(v: i32) -> Self;
}

impl QuantOutput for u8 {
    const MIN: i32 = 0;
    const MAX: i32 = 255;
    fn from_code(v: i32) -> Self {
        v as u8
    }
}

impl QuantOutput for i8 {
    const MIN: i32 = -128;
    const MAX: i32 = 127;
    fn from_code(v: i32) -> Self {
        v as i8
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for i8 {}
}

/// Per-column requantization of exact i32 sums to u8/i8 codes.
///
/// `multiplier[j]` is `a_scale * b_scale[j] / y_scale` (computed by the caller in f32, left to
/// right, as ORT does); `bias` is an i32 bias in units of `a_scale * b_scale[j]`. The result is
/// clamped to `min..=max` (codes), which also folds a following `Relu` or `Clip`.
#[derive(Debug, Clone, Copy)]
pub struct Requant<'a> {
    /// Per-column multipliers.
    pub multiplier: &'a [f32],
    /// Optional per-column i32 bias, added before scaling.
    pub bias: Option<&'a [i32]>,
    /// The output code of real zero.
    pub zero_point: i32,
    /// Smallest output code (at least the type's minimum).
    pub min: i32,
    /// Largest output code (at most the type's maximum).
    pub max: i32,
}

/// `1.5 * 2^23`: adding and subtracting it rounds an f32 below `2^22` in magnitude to the
/// nearest integer, ties to even (the default rounding mode), without SSE4.1's `roundps`.
const ROUND_MAGIC: f32 = 12_582_912.0;

impl<'a> Requant<'a> {
    /// The requantization restricted to columns `start..start + len` (one convolution group).
    pub fn columns(&self, start: usize, len: usize) -> Requant<'a> {
        Requant {
            multiplier: &self.multiplier[start..start + len],
            bias: self.bias.map(|b| &b[start..start + len]),
            ..*self
        }
    }

    pub(crate) fn check<O: QuantOutput>(&self, n: usize) -> Result<(), KernelError> {
        check_len("multiplier", n, self.multiplier.len())?;
        if let Some(bias) = self.bias {
            check_len("bias", n, bias.len())?;
        }
        check_output_range::<O>(self.zero_point, self.min, self.max)
    }

    /// Requantizes the exact sums of columns `j0..j0 + exact.len()` into `out` (eight lanes at
    /// a time with AVX2, the same operations in the same order).
    #[inline]
    pub(crate) fn apply<O: QuantOutput>(&self, j0: usize, exact: &[i32], out: &mut [O]) {
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::features().avx2_fma() {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { self.apply_avx2(j0, exact, out) };
        }
        self.apply_lanes(j0, exact, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn apply_avx2<O: QuantOutput>(&self, j0: usize, exact: &[i32], out: &mut [O]) {
        self.apply_lanes(j0, exact, out);
    }

    #[inline(always)]
    fn apply_lanes<O: QuantOutput>(&self, j0: usize, exact: &[i32], out: &mut [O]) {
        let lo = (self.min - self.zero_point) as f32;
        let hi = (self.max - self.zero_point) as f32;
        let m = &self.multiplier[j0..][..exact.len()];
        let apply = |o: &mut O, acc: i32, m: f32| {
            let x = (acc as f32 * m).max(lo).min(hi);
            let r = (x + ROUND_MAGIC) - ROUND_MAGIC;
            // SAFETY: `r` is a whole number in `lo..=hi` (`max` maps NaN to `lo`), within i32.
            *o = O::from_code(unsafe { r.to_int_unchecked::<i32>() } + self.zero_point);
        };
        match self.bias {
            Some(bias) => {
                let bias = &bias[j0..][..exact.len()];
                for ((o, &v), (&b, &m)) in out.iter_mut().zip(exact).zip(bias.iter().zip(m)) {
                    apply(o, v.wrapping_add(b), m);
                }
            }
            None => {
                for ((o, &v), &m) in out.iter_mut().zip(exact).zip(m) {
                    apply(o, v, m);
                }
            }
        }
    }
}

/// The reference requantization of one sum (plain `round_ties_even` and clamps), for tests and
/// callers that requantize outside the kernels.
pub fn requantize(acc: i32, multiplier: f32, zero_point: i32, min: i32, max: i32) -> i32 {
    let x = (acc as f32 * multiplier).round_ties_even();
    if x.is_nan() {
        return zero_point.clamp(min, max);
    }
    (x as i64 + i64::from(zero_point)).clamp(i64::from(min), i64::from(max)) as i32
}

/// Checks that an output zero point and clamp `min..=max` lie in `O`'s code range.
pub(crate) fn check_output_range<O: QuantOutput>(
    zero_point: i32,
    min: i32,
    max: i32,
) -> Result<(), KernelError> {
    if !(O::MIN..=O::MAX).contains(&zero_point) || min < O::MIN || max > O::MAX || min > max {
        return Err(KernelError::Conv(format!(
            "output zero point `{zero_point}` or clamp `{min}..={max}` outside the output type's `{}..={}`",
            O::MIN,
            O::MAX
        )));
    }
    Ok(())
}
