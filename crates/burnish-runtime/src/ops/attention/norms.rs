//! Row normalizations computed in f32 on the host (sums in f64): `RMSNormalization`,
//! `GroupNormalization` (per-group scale and bias before opset 21, per-channel from 21),
//! `LpNormalization`, and `MeanVarianceNormalization` (with Burn tensor ops).

use burn_backend::ops::FloatTensorOps;
use burn_backend::{DType as BurnDType, Scalar, Shape};
use burn_flex::FlexTensor;

use super::host::{f32s, float_input, rows_mut, upload};
use crate::ops::binary::arith;
use crate::ops::util::{axes, axis, dims, expand_to};
use crate::ops::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// `RMSNormalization(X, scale)`: `X / sqrt(mean(X^2 over the dims from axis on) + epsilon) *
/// scale`.
pub fn rms_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let ax = ctx.int("axis", -1)?;
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "X")?;
        let scale = float_input(ins.take(1)?, "scale")?;
        let s = dims(&x);
        let a = axis(ax, s.len())?;
        let inner: usize = s[a..].iter().product();
        let w = inner_weights(&scale, &s[a..])?;
        let xs = f32s(&x)?;
        let mut out = vec![0.0f32; xs.len()];
        rows_mut(&mut out, inner, |r, row| {
            let src = &xs[r * inner..(r + 1) * inner];
            let ms = src
                .iter()
                .map(|&v| f64::from(v) * f64::from(v))
                .sum::<f64>()
                / inner as f64;
            let inv = (1.0 / (ms + eps).sqrt()) as f32;
            match &w {
                Some(w) => row
                    .iter_mut()
                    .zip(src.iter().zip(w))
                    .for_each(|(y, (&v, &w))| *y = v * inv * w),
                None => row.iter_mut().zip(src).for_each(|(y, &v)| *y = v * inv),
            }
        });
        let y = Value::Float(upload(out, s, x.dtype()));
        Ok(vec![match w {
            Some(_) => y,
            None => arith(y, Value::Float(scale), B::float_mul, B::float_mul)?,
        }])
    })
}

/// `scale` as one weight per element of the normalized block `inner` (a suffix of the input
/// shape), or `None` when it also varies along the leading dims (then it is applied by a
/// broadcasting multiply).
fn inner_weights(scale: &FlexTensor, inner: &[usize]) -> Result<Option<Vec<f32>>, String> {
    let mut s = dims(scale);
    while s.len() > inner.len() {
        if s[0] != 1 {
            return Ok(None);
        }
        s.remove(0);
    }
    let off = inner.len() - s.len();
    if s.iter().zip(&inner[off..]).any(|(&d, &n)| d != 1 && d != n) {
        return Ok(None);
    }
    let t = B::float_reshape(scale.clone(), Shape::from(s));
    let Value::Float(full) = expand_to(Value::Float(t), inner)? else {
        return Err("scale is not a float tensor".into());
    };
    Ok(Some(f32s(&full)?.into_owned()))
}

/// `GroupNormalization(X, scale, bias)` over `num_groups` groups of channels.
pub fn group_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = f64::from(ctx.float("epsilon", 1e-5)?);
    let groups = ctx.int("num_groups", 0)?;
    let groups = usize::try_from(groups)
        .ok()
        .filter(|&g| g > 0)
        .ok_or_else(|| format!("attribute `num_groups` must be positive, found {groups}"))?;
    let per_channel = ctx.opset >= 21;
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "X")?;
        let scale = float_input(ins.take(1)?, "scale")?;
        let bias = float_input(ins.take(2)?, "bias")?;
        let s = dims(&x);
        if s.len() < 2 || !s[1].is_multiple_of(groups) {
            return Err(format!(
                "GroupNormalization needs X of rank >= 2 whose channels divide into {groups} \
                 groups, found {s:?}"
            ));
        }
        let c = s[1];
        let want = if per_channel { c } else { groups };
        let (scale, bias) = (f32s(&scale)?, f32s(&bias)?);
        if scale.len() != want || bias.len() != want {
            return Err(format!(
                "scale and bias must have {want} values (opset {}), found {} and {}",
                if per_channel { ">= 21" } else { "< 21" },
                scale.len(),
                bias.len()
            ));
        }
        let spatial: usize = s[2..].iter().product();
        let cpg = c / groups;
        let row = cpg * spatial;
        let xs = f32s(&x)?;
        let mut out = vec![0.0f32; xs.len()];
        rows_mut(&mut out, row, |r, y| {
            let src = &xs[r * row..(r + 1) * row];
            let (mean, inv) = mean_inv_std(src, eps);
            let g = r % groups;
            for (j, (y, &v)) in y.iter_mut().zip(src).enumerate() {
                let k = if per_channel {
                    g * cpg + j / spatial
                } else {
                    g
                };
                *y = ((f64::from(v) - mean) * inv) as f32 * scale[k] + bias[k];
            }
        });
        Ok(vec![Value::Float(upload(out, s, x.dtype()))])
    })
}

/// Mean and `1 / sqrt(variance + eps)` of `v` (two passes in f64).
fn mean_inv_std(v: &[f32], eps: f64) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v
        .iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// `LpNormalization(p = 1 | 2, axis)`: `x / ||x||_p` along `axis` (0 where the norm is 0).
pub fn lp_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let p = ctx.int("p", 2)?;
    if p != 1 && p != 2 {
        return Err(format!("attribute `p` must be 1 or 2, found {p}"));
    }
    let ax = ctx.int("axis", -1)?;
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "input")?;
        let s = dims(&x);
        let a = axis(ax, s.len())?;
        let (n, inner) = (s[a], s[a + 1..].iter().product::<usize>());
        let xs = f32s(&x)?;
        let mut out = vec![0.0f32; xs.len()];
        rows_mut(&mut out, n * inner, |r, y| {
            let src = &xs[r * n * inner..(r + 1) * n * inner];
            for i in 0..inner {
                let lane = src.iter().skip(i).step_by(inner.max(1));
                let norm = if p == 1 {
                    lane.map(|&v| f64::from(v).abs()).sum::<f64>()
                } else {
                    lane.map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt()
                };
                for (y, &v) in y.iter_mut().zip(src).skip(i).step_by(inner.max(1)) {
                    *y = if norm == 0.0 {
                        0.0
                    } else {
                        (f64::from(v) / norm) as f32
                    };
                }
            }
        });
        Ok(vec![Value::Float(upload(out, s, x.dtype()))])
    })
}

/// `MeanVarianceNormalization(axes)`: `(X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)`, the
/// function body's formula.
pub fn mvn(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let list = ctx.ints("axes")?.unwrap_or_else(|| vec![0, 2, 3]);
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "X")?;
        let dtype = x.dtype();
        let x = if dtype == BurnDType::F64 || dtype == BurnDType::F32 {
            x
        } else {
            B::float_cast(x, BurnDType::F32.into())
        };
        let ax = axes(&list, dims(&x).len())?;
        let mean_over = |t: FlexTensor| ax.iter().fold(t, |t, &a| B::float_mean_dim(t, a));
        let mean = mean_over(x.clone());
        let mean_sq = mean_over(B::float_mul(x.clone(), x.clone()));
        let var = B::float_sub(mean_sq, B::float_mul(mean.clone(), mean.clone()));
        let std = B::float_add_scalar(B::float_sqrt(var), Scalar::from(1e-9));
        let mut y = B::float_div(B::float_sub(x, mean), std);
        if y.dtype() != dtype {
            y = B::float_cast(y, dtype.into());
        }
        Ok(vec![Value::Float(y)])
    })
}

/// `LRN(alpha, beta, bias, size)`: `x / (bias + alpha / size * sum of x^2 over the channel
/// window [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta`, for `[N, C, ...]` inputs.
pub fn lrn(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1e-4)?;
    let beta = ctx.float("beta", 0.75)?;
    let bias = ctx.float("bias", 1.0)?;
    let size = ctx.int("size", 0)?;
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| format!("attribute `size` must be positive, found {size}"))?;
    let (below, above) = ((size - 1) / 2, size / 2);
    let coef = alpha / size as f32;
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "X")?;
        let s = dims(&x);
        if s.len() < 2 {
            return Err(format!("LRN needs X of rank >= 2, found {s:?}"));
        }
        let c = s[1];
        let plane: usize = s[2..].iter().product();
        let xs = f32s(&x)?;
        let mut out = vec![0.0f32; xs.len()];
        rows_mut(&mut out, plane, |r, y| {
            let (n, ch) = (r / c, r % c);
            let window = ch.saturating_sub(below)..(ch + above + 1).min(c);
            y.fill(0.0);
            for k in window {
                let src = &xs[(n * c + k) * plane..(n * c + k + 1) * plane];
                y.iter_mut().zip(src).for_each(|(acc, &v)| *acc += v * v);
            }
            let src = &xs[r * plane..(r + 1) * plane];
            y.iter_mut()
                .zip(src)
                .for_each(|(acc, &v)| *acc = v * inv_pow(bias + coef * *acc, beta));
        });
        Ok(vec![Value::Float(upload(out, s, x.dtype()))])
    })
}

/// `t^-beta`, with the common exponents in square roots.
fn inv_pow(t: f32, beta: f32) -> f32 {
    if beta == 0.75 {
        let r = t.sqrt();
        1.0 / (r * r.sqrt())
    } else if beta == 0.5 {
        1.0 / t.sqrt()
    } else {
        t.powf(-beta)
    }
}
