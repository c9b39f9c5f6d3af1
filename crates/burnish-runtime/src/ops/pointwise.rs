//! Single-pass f32 epilogues: an optional bias along the last axis and an activation, applied
//! in place to a tensor this op owns (a fresh GEMM result), in one sweep over memory.
//!
//! Burn applies `Add`, then each step of an activation (`Gelu` is five ops) as separate passes,
//! each allocating when the input is shared. Here the loop body is one closure per activation,
//! so the compiler vectorizes it; `Gelu` uses a rational `erf` approximation (below) instead
//! of a scalar library call per element.

use std::mem::MaybeUninit;

use burn_backend::DType as BurnDType;
use burn_flex::FlexTensor;
use burnish_kernels::f32::map::{map_inplace, map_rows};
use burnish_kernels::f32::math;
use rayon::prelude::*;

use super::util::{dims, host_f32, upload_f32};

/// An elementwise activation with its constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointwise {
    /// `x`.
    Identity,
    /// `clamp(x, lo, hi)` (`Relu` is `lo = 0`, `hi = inf`).
    Clip(f32, f32),
    /// `x` if `x >= 0`, else `alpha * x`.
    LeakyRelu(f32),
    /// `clamp(alpha * x + beta, 0, 1)`.
    HardSigmoid(f32, f32),
    /// `x * clamp(x * (1/6) + 1/2, 0, 1)` (ONNX `HardSwish`: `alpha = 1/6`, `beta = 1/2`).
    HardSwish,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `x * sigmoid(x)`.
    Silu,
    /// `tanh(x)`.
    Tanh,
    /// `x / 2 * (1 + erf(x / sqrt 2))`.
    Gelu,
    /// `x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))`.
    GeluTanh,
    /// `e^x`.
    Exp,
    /// `erf(x)`.
    Erf,
}

impl Pointwise {
    /// `v[i] = self(v[i] + bias[i % bias.len()])` in one vectorized sweep.
    pub(crate) fn sweep(self, v: &mut [f32], bias: Option<&[f32]>) {
        match self {
            Pointwise::Identity => sweep(v, bias, |x| x),
            Pointwise::Clip(lo, hi) => sweep(v, bias, move |x| x.max(lo).min(hi)),
            Pointwise::LeakyRelu(a) => sweep(v, bias, move |x| if x < 0.0 { a * x } else { x }),
            Pointwise::HardSigmoid(a, b) => sweep(v, bias, move |x| (a * x + b).clamp(0.0, 1.0)),
            Pointwise::HardSwish => sweep(v, bias, |x| x * (x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)),
            Pointwise::Sigmoid => sweep(v, bias, math::sigmoid),
            Pointwise::Silu => sweep(v, bias, |x| x * math::sigmoid(x)),
            Pointwise::Tanh => sweep(v, bias, math::tanh),
            Pointwise::Exp => sweep(v, bias, math::exp),
            Pointwise::Erf => sweep(v, bias, math::erf),
            Pointwise::Gelu => sweep(v, bias, |x| {
                0.5 * x * (1.0 + math::erf(x * std::f32::consts::FRAC_1_SQRT_2))
            }),
            Pointwise::GeluTanh => sweep(v, bias, |x| {
                let inner = 0.797_884_6 * (x + 0.044_715 * x * x * x);
                0.5 * x * (1.0 + math::tanh(inner))
            }),
        }
    }
}

impl Pointwise {
    /// `v[i] = v[i] * self(v[i])` in one vectorized sweep for the gates exporters write (SiLU
    /// as `x * Sigmoid(x)`, hard-swish as `x * HardSigmoid(x)`), with the roundings of the two
    /// steps; `false` (and `v` untouched) for other activations.
    pub(crate) fn sweep_gate(self, v: &mut [f32]) -> bool {
        match self {
            Pointwise::Sigmoid => sweep(v, None, |x| x * math::sigmoid(x)),
            Pointwise::HardSigmoid(a, b) => {
                sweep(v, None, move |x| x * (a * x + b).clamp(0.0, 1.0))
            }
            _ => return false,
        }
        true
    }
}

/// `v[i] = f(v[i] + bias[i % bias.len()])`, vectorized at the CPU's width and split across
/// threads for large tensors ([`burnish_kernels::f32::map`]).
fn sweep(v: &mut [f32], bias: Option<&[f32]>, f: impl Fn(f32) -> f32 + Sync + Send + Copy) {
    match bias {
        None => map_inplace(v, f),
        Some(b) => map_rows(v, b, move |x, c| f(x + c)),
    }
}

/// An op computing `act` element-wise: float32 tensors as one vectorized sweep, other float
/// types through `other` (Burn's kernels).
pub fn vectorized(
    act: Pointwise,
    other: impl Fn(FlexTensor) -> FlexTensor + Send + Sync + 'static,
) -> Result<Box<dyn super::Op>, String> {
    super::op(move |mut ins: super::Inputs| {
        let x = super::util::float(ins.take(0)?)?;
        if x.dtype() == BurnDType::F32 {
            return Ok(vec![crate::value::Value::Float(apply(x, None, act)?)]);
        }
        Ok(vec![crate::value::Value::Float(other(x))])
    })
}

/// Runs `f` on the elements of the f32 tensor `y`: in place when `y` is contiguous and this
/// call holds its only reference, else on a copy that is uploaded as the result.
pub fn in_place(mut y: FlexTensor, f: impl FnOnce(&mut [f32])) -> Result<FlexTensor, String> {
    if y.dtype() != BurnDType::F32 {
        return Err(format!("an f32 kernel on {:?} data", y.dtype()));
    }
    let shape = dims(&y);
    let numel: usize = shape.iter().product();
    let at_start = y.is_contiguous() && y.layout().start_offset() == 0;
    // A contiguous layout at offset 0 maps the elements onto the first `numel` of the storage
    // (which may be longer).
    if at_start && let Some(buf) = y.try_storage_mut::<f32>().filter(|b| b.len() >= numel) {
        f(&mut buf[..numel]);
        return Ok(y);
    }
    let y = super::util::dense(y);
    let mut v = match y.as_slice::<f32>() {
        Some(s) => s.to_vec(),
        None => host_f32(&y)?,
    };
    f(&mut v);
    Ok(upload_f32(v, shape))
}

/// Applies `f` to `y`'s f32 values chunk by chunk (`f` gets each chunk's offset): in place
/// when `y` is contiguous and this call holds its only reference, else each chunk is copied
/// into a fresh output and transformed while it is in cache (one pass over memory, where a
/// copy and then a sweep make two). Chunks go to rayon's threads when `parallel`.
pub fn chunked(
    mut y: FlexTensor,
    chunk: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [f32]) + Sync + Send,
) -> Result<FlexTensor, String> {
    if y.dtype() != BurnDType::F32 {
        return Err(format!("an f32 kernel on {:?} data", y.dtype()));
    }
    let chunk = chunk.max(1);
    let shape = dims(&y);
    let numel: usize = shape.iter().product();
    let at_start = y.is_contiguous() && y.layout().start_offset() == 0;
    if at_start && let Some(buf) = y.try_storage_mut::<f32>().filter(|b| b.len() >= numel) {
        let each = |(i, c): (usize, &mut [f32])| f(i * chunk, c);
        if parallel {
            buf[..numel]
                .par_chunks_mut(chunk)
                .enumerate()
                .for_each(each);
        } else {
            buf[..numel].chunks_mut(chunk).enumerate().for_each(each);
        }
        return Ok(y);
    }
    let y = super::util::dense(y);
    let Some(src) = y.as_slice::<f32>().and_then(|s| s.get(..numel)) else {
        return in_place(y, |v| {
            v.chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i * chunk, c))
        });
    };
    let mut out: Vec<f32> = Vec::with_capacity(numel);
    let each = |(i, (dst, src)): (usize, (&mut [MaybeUninit<f32>], &[f32]))| {
        let dst = dst.as_mut_ptr().cast::<f32>();
        // SAFETY: `dst` and `src` are chunks of equal length of two distinct buffers; after
        // the copy every value of `dst` is initialized, so it can be viewed as `[f32]`.
        let dst = unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len());
            std::slice::from_raw_parts_mut(dst, src.len())
        };
        f(i * chunk, dst);
    };
    let spare = &mut out.spare_capacity_mut()[..numel];
    if parallel {
        spare
            .par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .enumerate()
            .for_each(each);
    } else {
        spare
            .chunks_mut(chunk)
            .zip(src.chunks(chunk))
            .enumerate()
            .for_each(each);
    }
    // SAFETY: the chunks above initialized all `numel` values.
    unsafe { out.set_len(numel) };
    Ok(upload_f32(out, shape))
}

/// Applies `bias` (broadcast along the last axis, or none) and `act` to `y` in one pass,
/// in place when `y` is a contiguous f32 tensor this call holds the only reference to.
/// A bias that is not one value per last-axis element is an error.
pub fn apply(
    y: FlexTensor,
    bias: Option<&FlexTensor>,
    act: Pointwise,
) -> Result<FlexTensor, String> {
    let shape = dims(&y);
    let last = shape.last().copied().unwrap_or(1);
    let bias = match bias {
        None => None,
        Some(b) => {
            let host = host_f32(b)?;
            if host.len() != last || last == 0 {
                return Err(format!(
                    "bias of shape {:?} does not broadcast along the last axis of {shape:?}",
                    dims(b)
                ));
            }
            Some(host)
        }
    };
    in_place(y, |v| act.sweep(v, bias.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64: the Maclaurin series up to |x| = 3 (terms stay below 1e4, so f64 keeps
    /// ~1e-12), beyond it `1 - erfc` with erfc's asymptotic series (five terms: relative
    /// error below 1e-3 of erfc(3) = 2.2e-5).
    fn erf_reference(x: f64) -> f64 {
        if x.abs() > 3.0 {
            let inv = 1.0 / (2.0 * x * x);
            let series = 1.0 - inv + 3.0 * inv * inv - 15.0 * inv.powi(3) + 105.0 * inv.powi(4);
            let erfc = (-x * x).exp() / (x.abs() * std::f64::consts::PI.sqrt()) * series;
            return x.signum() * (1.0 - erfc);
        }
        let (mut term, mut sum, mut n) = (x, x, 0.0);
        while term.abs() > 1e-17 * sum.abs().max(1e-300) {
            n += 1.0;
            term *= -x * x / n;
            sum += term / (2.0 * n + 1.0);
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    }

    #[test]
    fn erf_matches_the_series_everywhere() {
        let mut worst = 0f64;
        for i in -6000..=6000 {
            let x = i as f64 / 1000.0;
            let want = erf_reference(x);
            worst = worst.max((math::erf(x as f32) as f64 - want).abs());
        }
        assert!(worst < 4e-7, "max abs error {worst:e}");
    }

    #[test]
    fn in_place_sweep_adds_bias_then_activates() {
        let y = upload_f32(vec![-2.0, -0.5, 0.5, 2.0, 3.0, -3.0], vec![2, 3]);
        let b = upload_f32(vec![1.0, 0.0, -1.0], vec![3]);
        let out = apply(y, Some(&b), Pointwise::Clip(0.0, 2.5)).unwrap();
        assert_eq!(host_f32(&out).unwrap(), vec![0.0, 0.0, 0.0, 2.5, 2.5, 0.0]);
        let g = apply(upload_f32(vec![1.0], vec![1]), None, Pointwise::Gelu).unwrap();
        let want = 0.5 * (1.0 + erf_reference(std::f64::consts::FRAC_1_SQRT_2));
        assert!((host_f32(&g).unwrap()[0] as f64 - want).abs() < 1e-6);
        let bad = upload_f32(vec![0.0; 4], vec![4]);
        assert!(
            apply(
                upload_f32(vec![0.0; 6], vec![2, 3]),
                Some(&bad),
                Pointwise::Identity
            )
            .is_err()
        );
    }
}
