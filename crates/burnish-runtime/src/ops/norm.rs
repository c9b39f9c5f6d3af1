//! Normalizations: `BatchNormalization` (inference), `LayerNormalization`,
//! `InstanceNormalization`.

use burn_backend::ops::FloatTensorOps;
use burn_backend::{Scalar, Shape};
use burn_flex::FlexTensor;

use super::util::{axis, dims, float};
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

/// `BatchNormalization` in inference mode: `(x - mean) / sqrt(var + eps) * scale + bias`,
/// applied as one multiply and one add per element.
pub fn batch_norm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let eps = ctx.float("epsilon", 1e-5)?;
    if ctx.int("training_mode", 0)? != 0 {
        return Err("BatchNormalization in training mode is not supported".into());
    }
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
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
