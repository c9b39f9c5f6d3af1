//! Normalizations: `BatchNormalization`, `LayerNormalization`,
//! `InstanceNormalization`.

use burn_backend::ops::FloatTensorOps;
use burn_backend::{DType as BurnDType, Scalar, Shape};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::util::{axis, dims, float, upload_f32};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

fn per_channel(t: FlexTensor, rank: usize) -> FlexTensor {
    let c = dims(&t).iter().product::<usize>();
    let mut s = vec![1; rank];
    if rank > 1 {
        s[1] = c;
    } else {
        s[0] = c;
    }
    B::float_reshape(t, Shape::from(s))
}

/// Whether a `BatchNormalization` node runs in training mode: the `training_mode` attribute
/// from opset 14, more than one output before.
fn training_mode(ctx: &BuildCtx) -> Result<bool, String> {
    if ctx.opset >= 14 {
        Ok(ctx.int("training_mode", 0)? != 0)
    } else {
        Ok(ctx.node.outputs.len() > 1)
    }
}

/// `BatchNormalization` in inference mode: `(x - mean) / sqrt(var + eps) * scale + bias`,
/// applied as one multiply and one add per element. In training mode it normalizes with the
/// batch statistics and also returns the updated running mean and variance (and before opset
/// 14 the batch mean and variance).
pub fn batch_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = ctx.float("epsilon", 1e-5)?;
    if training_mode(ctx)? {
        let momentum = f64::from(ctx.float("momentum", 0.9)?);
        let saved = ctx.opset < 14;
        return op(move |mut ins| {
            let x = ins.take(0)?;
            let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| ins.take(i));
            let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
            let params = [&scale, &bias, &mean, &var];
            super::loss::batch_norm_training(&x, params, f64::from(eps), momentum, saved)
        });
    }
    let folded = fold_constants(ctx, eps);
    op(move |mut ins| {
        let mut x = float(ins.take(0)?)?;
        if let Some((a, b)) = &folded {
            match affine_per_channel(x, a, b) {
                Ok(y) => return Ok(vec![Value::Float(y)]),
                Err(back) => x = back,
            }
        }
        let [scale, bias, mean, var] = [1, 2, 3, 4].map(|i| ins.take(i).and_then(float));
        let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
        let sx = dims(&x);
        let c = *sx
            .get(1)
            .ok_or("BatchNormalization input needs a channel dim")?;
        for (name, t) in [
            ("scale", &scale),
            ("B", &bias),
            ("mean", &mean),
            ("var", &var),
        ] {
            if dims(t) != [c] {
                return Err(format!("{name} has shape {:?}, expected [{c}]", dims(t)));
            }
        }
        let inv = B::float_recip(B::float_sqrt(B::float_add_scalar(var, Scalar::from(eps))));
        let a = B::float_mul(scale, inv);
        let b = B::float_sub(bias, B::float_mul(mean, a.clone()));
        let rank = sx.len();
        let y = B::float_add(B::float_mul(x, per_channel(a, rank)), per_channel(b, rank));
        Ok(vec![Value::Float(y)])
    })
}

/// `scale / sqrt(var + eps)` and `B - mean * that`, per channel, when the four parameters are
/// f32 constants of one shape `[C]`.
/// The per-channel scale and shift an inference `BatchNormalization` with constant parameters
/// applies (the values [`batch_norm`] computes), or `None` when they are not constant.
pub(crate) fn folded(ctx: &BuildCtx) -> Option<(Vec<f32>, Vec<f32>)> {
    if training_mode(ctx).ok()? {
        return None;
    }
    fold_constants(ctx, ctx.float("epsilon", 1e-5).ok()?)
}

fn fold_constants(ctx: &BuildCtx, eps: f32) -> Option<(Vec<f32>, Vec<f32>)> {
    let get = |i: usize| {
        let t = ctx.consts.get(i)?.as_ref()?;
        (t.shape.len() == 1).then_some(())?;
        t.as_f32()
    };
    let (scale, bias, mean, var) = (get(1)?, get(2)?, get(3)?, get(4)?);
    let c = scale.len();
    if [bias.len(), mean.len(), var.len()] != [c; 3] {
        return None;
    }
    let a: Vec<f32> = scale
        .iter()
        .zip(var)
        .map(|(&s, &v)| s * (v + eps).sqrt().recip())
        .collect();
    let b = bias
        .iter()
        .zip(mean)
        .zip(&a)
        .map(|((&b, &m), &a)| b - m * a)
        .collect();
    Some((a, b))
}

/// `y[n, c, ..] = x[n, c, ..] * a[c] + b[c]` for a contiguous f32 `x` with `a.len()` channels,
/// in place when this op holds the only reference to `x`; gives `x` back when it does not fit.
/// Elements from which the per-channel sweep splits its planes across threads.
const PARALLEL_ELEMENTS: usize = 1 << 15;

fn affine_per_channel(mut x: FlexTensor, a: &[f32], b: &[f32]) -> Result<FlexTensor, FlexTensor> {
    let shape = dims(&x);
    if x.dtype() != BurnDType::F32 || shape.len() < 2 || shape[1] != a.len() || a.is_empty() {
        return Err(x);
    }
    let inner: usize = shape[2..].iter().product();
    let numel = shape[0] * a.len() * inner;
    let plane = |(i, plane): (usize, &mut [f32])| {
        let c = i % a.len();
        let (a, b) = (a[c], b[c]);
        plane.iter_mut().for_each(|v| *v = *v * a + b);
    };
    let sweep = |v: &mut [f32]| {
        if numel >= PARALLEL_ELEMENTS && rayon::current_num_threads() > 1 {
            v.par_chunks_exact_mut(inner.max(1))
                .enumerate()
                .for_each(plane);
        } else {
            v.chunks_exact_mut(inner.max(1)).enumerate().for_each(plane);
        }
    };
    x = super::util::dense(x);
    if x.layout().start_offset() == 0
        && let Some(buf) = x.try_storage_mut::<f32>().filter(|v| v.len() == numel)
    {
        sweep(buf);
        return Ok(x);
    }
    let Some(mut v) = x
        .as_slice::<f32>()
        .and_then(|s| s.get(..numel))
        .map(<[f32]>::to_vec)
    else {
        return Err(x);
    };
    sweep(&mut v);
    Ok(upload_f32(v, shape))
}

/// Normalizes `x` viewed as `[outer, inner]` over `inner`; also returns the row means and
/// inverse standard deviations, shaped `[outer, 1]`.
fn normalize_rows_stats(
    x: FlexTensor,
    outer: usize,
    inner: usize,
    eps: f32,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let shape = dims(&x);
    let flat = B::float_reshape(x, Shape::from(vec![outer, inner]));
    let mean = B::float_mean_dim(flat.clone(), 1);
    let centered = B::float_sub(flat, mean.clone());
    let var = B::float_mean_dim(B::float_mul(centered.clone(), centered.clone()), 1);
    let inv = B::float_recip(B::float_sqrt(B::float_add_scalar(var, Scalar::from(eps))));
    let y = B::float_reshape(B::float_mul(centered, inv.clone()), Shape::from(shape));
    (y, mean, inv)
}

fn normalize_rows(x: FlexTensor, outer: usize, inner: usize, eps: f32) -> FlexTensor {
    normalize_rows_stats(x, outer, inner, eps).0
}

/// `LayerNormalization(X, Scale, B?)` over the dims from `axis` on.
pub fn layer_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = ctx.float("epsilon", 1e-5)?;
    let ax = ctx.int("axis", -1)?;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let scale = float(ins.take(1)?)?;
        let bias = ins.opt(2).map(float).transpose()?;
        let s = dims(&x);
        let a = axis(ax, s.len())?;
        let (outer, inner) = (s[..a].iter().product(), s[a..].iter().product());
        let (y, mean, inv) = normalize_rows_stats(x, outer, inner, eps);
        let mut stat_shape = s[..a].to_vec();
        stat_shape.extend(std::iter::repeat_n(1, s.len() - a));
        let stat =
            |t: FlexTensor| Value::Float(B::float_reshape(t, Shape::from(stat_shape.clone())));
        let mut y = Value::Float(y);
        y = super::binary::arith(y, Value::Float(scale), B::float_mul, B::float_mul)?;
        if let Some(b) = bias {
            y = super::binary::arith(y, Value::Float(b), B::float_add, B::float_add)?;
        }
        Ok(vec![y, stat(mean), stat(inv)])
    })
}

/// `InstanceNormalization(x, scale, B)`: per sample and channel, over the spatial dims.
pub fn instance_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = ctx.float("epsilon", 1e-5)?;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let scale = float(ins.take(1)?)?;
        let bias = float(ins.take(2)?)?;
        let s = dims(&x);
        if s.len() < 3 {
            return Err(format!(
                "InstanceNormalization needs rank >= 3, found {s:?}"
            ));
        }
        let y = normalize_rows(x, s[0] * s[1], s[2..].iter().product(), eps);
        let rank = s.len();
        let y = B::float_add(
            B::float_mul(y, per_channel(scale, rank)),
            per_channel(bias, rank),
        );
        Ok(vec![Value::Float(y)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::util::host_f32;

    #[test]
    fn folded_batch_norm_matches_the_formula_in_place_and_shared() {
        let (scale, bias, mean, var, eps) = (
            [0.5f32, -2.0],
            [0.25f32, 1.0],
            [1.0f32, -0.5],
            [4.0f32, 0.09],
            1e-5f32,
        );
        let a: Vec<f32> = (0..2).map(|c| scale[c] / (var[c] + eps).sqrt()).collect();
        let b: Vec<f32> = (0..2).map(|c| bias[c] - mean[c] * a[c]).collect();
        let x: Vec<f32> = (0..12).map(|i| i as f32 * 0.75 - 4.0).collect();
        let want: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = (i / 3) % 2;
                (f64::from(v) - f64::from(mean[c])) / (f64::from(var[c]) + f64::from(eps)).sqrt()
                    * f64::from(scale[c])
                    + f64::from(bias[c])
            })
            .collect();
        let t = upload_f32(x, vec![2, 2, 3]);
        let kept = t.clone();
        let shared = affine_per_channel(t, &a, &b).ok().unwrap();
        let owned = affine_per_channel(kept, &a, &b).ok().unwrap();
        for y in [shared, owned] {
            for (got, want) in host_f32(&y).unwrap().iter().zip(&want) {
                assert!((f64::from(*got) - want).abs() < 1e-5, "{got} vs {want}");
            }
        }
        let big: Vec<f32> = (0..2 * 2 * 9000)
            .map(|i| (i % 97) as f32 * 0.5 - 20.0)
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let y = pool
            .install(|| affine_per_channel(upload_f32(big.clone(), vec![2, 2, 9000]), &a, &b))
            .ok()
            .unwrap();
        for (i, (got, x)) in host_f32(&y).unwrap().iter().zip(&big).enumerate() {
            let c = (i / 9000) % 2;
            assert_eq!(*got, x * a[c] + b[c], "value {i}");
        }
        let wrong_channels = upload_f32(vec![0.0; 6], vec![1, 3, 2]);
        assert!(affine_per_channel(wrong_channels, &a, &b).is_err());
    }
}
