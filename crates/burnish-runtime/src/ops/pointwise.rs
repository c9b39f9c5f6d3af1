//! Single-pass f32 epilogues: an optional bias along the last axis and an activation, applied
//! in place to a tensor this op owns (a fresh GEMM result), in one sweep over memory.
//!
//! Burn applies `Add`, then each step of an activation (`Gelu` is five ops) as separate passes,
//! each allocating when the input is shared. Here the loop body is one closure per activation,
//! so the compiler vectorizes it; `Gelu` uses a rational `erf` approximation (below) instead
//! of a scalar library call per element.

use burn_backend::DType as BurnDType;
use burn_flex::FlexTensor;
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
}

/// Elements below which the sweep stays on the calling thread.
const PARALLEL_ELEMENTS: usize = 1 << 16;
const CHUNK: usize = 1 << 13;

impl Pointwise {
    fn sweep(self, v: &mut [f32], bias: Option<&[f32]>) {
        match self {
            Pointwise::Identity => sweep(v, bias, |x| x),
            Pointwise::Clip(lo, hi) => sweep(v, bias, move |x| x.max(lo).min(hi)),
            Pointwise::LeakyRelu(a) => sweep(v, bias, move |x| if x < 0.0 { a * x } else { x }),
            Pointwise::HardSigmoid(a, b) => sweep(v, bias, move |x| (a * x + b).clamp(0.0, 1.0)),
            Pointwise::HardSwish => sweep(v, bias, |x| x * (x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)),
            Pointwise::Sigmoid => sweep(v, bias, sigmoid),
            Pointwise::Silu => sweep(v, bias, |x| x * sigmoid(x)),
            Pointwise::Tanh => sweep(v, bias, f32::tanh),
            Pointwise::Gelu => sweep(v, bias, |x| {
                0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
            }),
            Pointwise::GeluTanh => sweep(v, bias, |x| {
                let inner = 0.797_884_6 * (x + 0.044_715 * x * x * x);
                0.5 * x * (1.0 + inner.tanh())
            }),
        }
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `v[i] = f(v[i] + bias[i % bias.len()])`, in parallel chunks for large tensors.
fn sweep(v: &mut [f32], bias: Option<&[f32]>, f: impl Fn(f32) -> f32 + Sync) {
    let rows = |chunk: &mut [f32]| match bias {
        None => chunk.iter_mut().for_each(|x| *x = f(*x)),
        Some(b) => {
            for row in chunk.chunks_exact_mut(b.len()) {
                row.iter_mut().zip(b).for_each(|(x, &c)| *x = f(*x + c));
            }
        }
    };
    let chunk = match bias {
        Some(b) => CHUNK.div_ceil(b.len()).max(1) * b.len(),
        None => CHUNK,
    };
    if v.len() >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
        v.par_chunks_mut(chunk).for_each(rows);
    } else {
        rows(v);
    }
}

/// `erf(x)` for f32 as `x * P(x^2) / Q(x^2)` on `x` clamped to `[-4, 4]` (where f32 `erf` is
/// already +-1): degree-13 odd numerator, degree-8 even denominator, no branches, so loops over
/// it vectorize. Absolute error below 4e-7 against the exact function (tested).
pub fn erf(x: f32) -> f32 {
    const P: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.954_600_2e-3,
        -1.609_603_3e-2,
    ];
    const Q: [f32; 5] = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329_3e-3,
        -1.426_474e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = P.iter().fold(0.0, |acc, &c| acc * x2 + c);
    let q = Q.iter().fold(0.0, |acc, &c| acc * x2 + c);
    x * p / q
}

/// Applies `bias` (broadcast along the last axis, or none) and `act` to `y` in one pass,
/// in place when `y` is a contiguous f32 tensor this call holds the only reference to.
/// A bias that is not one value per last-axis element is an error.
pub fn apply(
    mut y: FlexTensor,
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
    if y.dtype() != BurnDType::F32 {
        return Err(format!("fused epilogue on {:?} data", y.dtype()));
    }
    let in_place = y.is_contiguous() && y.layout().start_offset() == 0;
    let numel: usize = shape.iter().product();
    // A contiguous layout at offset 0 maps the elements onto the first `numel` of the storage
    // (which may be longer).
    if in_place && let Some(buf) = y.try_storage_mut::<f32>().filter(|b| b.len() >= numel) {
        act.sweep(&mut buf[..numel], bias.as_deref());
        return Ok(y);
    }
    let y = if y.is_contiguous() {
        y
    } else {
        y.to_contiguous()
    };
    let mut v = match y.as_slice::<f32>() {
        Some(s) => s.to_vec(),
        None => host_f32(&y)?,
    };
    act.sweep(&mut v, bias.as_deref());
    Ok(upload_f32(v, shape))
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
            worst = worst.max((erf(x as f32) as f64 - want).abs());
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
