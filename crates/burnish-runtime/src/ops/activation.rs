//! Activations and the softmax family.

use burn_backend::ops::{ActivationOps, FloatTensorOps, IntTensorOps};
use burn_backend::{Scalar, Shape};
use burn_flex::FlexTensor;

use burnish_kernels::f32::softmax::softmax_rows;

use super::pointwise::{self, Pointwise};
use super::util::{axis, dims, float};
use super::{BuildCtx, Inputs, Op, op};
use crate::value::{B, BOOL, Value};

fn map(
    f: impl Fn(FlexTensor) -> FlexTensor + Send + Sync + 'static,
) -> Result<Box<dyn Op>, String> {
    op(move |mut ins: Inputs| Ok(vec![Value::Float(f(float(ins.take(0)?)?))]))
}

fn s(v: f32) -> Scalar {
    Scalar::from(v)
}

/// `Relu`.
pub fn relu(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    map(B::relu)
}

/// `LeakyRelu(alpha)`.
pub fn leaky_relu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 0.01)?;
    map(move |x| B::leaky_relu(x, s(alpha)))
}

/// `Sigmoid`.
pub fn sigmoid(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    pointwise::vectorized(Pointwise::Sigmoid, B::sigmoid)
}

/// `HardSigmoid(alpha, beta)`: `max(0, min(1, alpha*x + beta))`.
pub fn hard_sigmoid(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let (alpha, beta) = (ctx.float("alpha", 0.2)?, ctx.float("beta", 0.5)?);
    pointwise::vectorized(Pointwise::HardSigmoid(alpha, beta), move |x| {
        B::hard_sigmoid(x, s(alpha), s(beta))
    })
}

/// `HardSwish`: `x * max(0, min(1, x/6 + 1/2))`.
pub fn hard_swish(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    pointwise::vectorized(Pointwise::HardSwish, |x| {
        B::float_mul(x.clone(), B::hard_sigmoid(x, s(1.0 / 6.0), s(0.5)))
    })
}

/// `Clip`: bounds from attributes (opset < 11) or optional inputs (opset >= 11).
pub fn clip(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let attr_min = ctx
        .node
        .attrs
        .contains_key("min")
        .then(|| ctx.float("min", 0.0))
        .transpose()?;
    let attr_max = ctx
        .node
        .attrs
        .contains_key("max")
        .then(|| ctx.float("max", 0.0))
        .transpose()?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let bound = |v: Option<Value>| -> Result<Option<f64>, String> {
            v.map(|v| {
                v.host_f64()?
                    .first()
                    .copied()
                    .ok_or("empty bound".to_string())
            })
            .transpose()
        };
        let lo = bound(ins.opt(1))?.or(attr_min.map(f64::from));
        let hi = bound(ins.opt(2))?.or(attr_max.map(f64::from));
        Ok(vec![match x {
            Value::Float(mut t) => {
                if let Some(lo) = lo {
                    t = B::float_clamp_min(t, Scalar::from(lo));
                }
                if let Some(hi) = hi {
                    t = B::float_clamp_max(t, Scalar::from(hi));
                }
                Value::Float(t)
            }
            Value::Int(mut t) => {
                if let Some(lo) = lo {
                    t = B::int_clamp_min(t, Scalar::from(lo as i64));
                }
                if let Some(hi) = hi {
                    t = B::int_clamp_max(t, Scalar::from(hi as i64));
                }
                Value::Int(t)
            }
            other => return Err(super::util::unsupported_value("Clip", &other)),
        }])
    })
}

fn exp_m1_scaled(x: FlexTensor, alpha: f32) -> FlexTensor {
    B::float_mul_scalar(B::float_sub_scalar(B::float_exp(x), s(1.0)), s(alpha))
}

fn where_neg(x: FlexTensor, neg: FlexTensor, pos: FlexTensor) -> FlexTensor {
    let mask = B::float_lower_elem(x, s(0.0), BOOL);
    B::float_mask_where(pos, mask, neg)
}

/// `Elu(alpha)`.
pub fn elu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    map(move |x| where_neg(x.clone(), exp_m1_scaled(x.clone(), alpha), x))
}

/// `Selu(alpha, gamma)`.
pub fn selu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.673_263_2)?;
    let gamma = ctx.float("gamma", 1.050_701)?;
    map(move |x| {
        let y = where_neg(x.clone(), exp_m1_scaled(x.clone(), alpha), x);
        B::float_mul_scalar(y, s(gamma))
    })
}

/// `Celu(alpha)`: `max(0,x) + min(0, alpha*(exp(x/alpha)-1))`.
pub fn celu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    map(move |x| {
        let e = exp_m1_scaled(B::float_div_scalar(x.clone(), s(alpha)), alpha);
        where_neg(x.clone(), e, x)
    })
}

/// `Softplus`: `log(1 + exp(x))`, computed stably as `max(x,0) + log1p(exp(-|x|))`.
pub fn softplus(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    map(|x| {
        let tail = B::float_log1p(B::float_exp(B::float_neg(B::float_abs(x.clone()))));
        B::float_add(B::relu(x), tail)
    })
}

/// `Softsign`: `x / (1 + |x|)`.
pub fn softsign(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    map(|x| B::float_div(x.clone(), B::float_add_scalar(B::float_abs(x), s(1.0))))
}

/// `Gelu(approximate = none | tanh)`.
/// One in-place pass over the data ([`super::pointwise`]) rather than five Burn ops.
pub fn gelu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let act = match ctx.string("approximate", "none")?.as_str() {
        "tanh" => Pointwise::GeluTanh,
        _ => Pointwise::Gelu,
    };
    op(move |mut ins: Inputs| {
        let x = float(ins.take(0)?)?;
        if x.dtype() != burn_backend::DType::F32 {
            let y = if act == Pointwise::GeluTanh {
                gelu_tanh(x)
            } else {
                gelu_erf(x)
            };
            return Ok(vec![Value::Float(y)]);
        }
        Ok(vec![Value::Float(pointwise::apply(x, None, act)?)])
    })
}

/// `0.5 x (1 + erf(x / sqrt 2))`.
pub fn gelu_erf(x: FlexTensor) -> FlexTensor {
    let e = B::float_erf(B::float_mul_scalar(
        x.clone(),
        s(std::f32::consts::FRAC_1_SQRT_2),
    ));
    B::float_mul(
        B::float_mul_scalar(x, s(0.5)),
        B::float_add_scalar(e, s(1.0)),
    )
}

/// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
pub fn gelu_tanh(x: FlexTensor) -> FlexTensor {
    let cube = B::float_mul(B::float_mul(x.clone(), x.clone()), x.clone());
    let inner = B::float_add(x.clone(), B::float_mul_scalar(cube, s(0.044_715)));
    let t = B::float_tanh(B::float_mul_scalar(inner, s(0.797_884_6)));
    B::float_mul(
        B::float_mul_scalar(x, s(0.5)),
        B::float_add_scalar(t, s(1.0)),
    )
}

/// `Mish`: `x * tanh(softplus(x))`.
pub fn mish(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    map(|x| {
        let sp = B::float_add(
            B::relu(x.clone()),
            B::float_log1p(B::float_exp(B::float_neg(B::float_abs(x.clone())))),
        );
        B::float_mul(x, B::float_tanh(sp))
    })
}

/// `ThresholdedRelu(alpha)`: `x` where `x > alpha`, else 0.
pub fn thresholded_relu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    map(move |x| {
        let keep = B::float_lower_equal_elem(x.clone(), s(alpha), BOOL);
        B::float_mask_fill(x, keep, s(0.0))
    })
}

/// Runs `f` over `axis`: directly (opset >= 13) or on the 2-D coercion of older opsets. With
/// `rows` (`Some(log)`), float32 softmax over contiguous rows (the last axis, or the legacy
/// coercion) runs as one vectorized kernel instead.
fn along_axis(
    ctx: &BuildCtx,
    rows: Option<bool>,
    f: fn(FlexTensor, usize) -> Result<FlexTensor, String>,
) -> Result<Box<dyn Op>, String> {
    let legacy = ctx.opset < 13;
    let a = ctx.int("axis", if legacy { 1 } else { -1 })?;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let shape = dims(&x);
        let ax = axis(a, shape.len())?;
        if let Some(log) = rows
            && x.dtype() == burn_backend::DType::F32
            && (legacy || ax + 1 == shape.len())
        {
            let row: usize = shape[ax..].iter().product();
            let y = pointwise::in_place(x, |v| softmax_rows(v, row, log))?;
            return Ok(vec![Value::Float(y)]);
        }
        if !legacy || ax + 1 == shape.len() {
            return Ok(vec![Value::Float(f(x, ax)?)]);
        }
        let outer: usize = shape[..ax].iter().product();
        let inner: usize = shape[ax..].iter().product();
        let flat = B::float_reshape(x, Shape::from(vec![outer, inner]));
        let y = f(flat, 1)?;
        Ok(vec![Value::Float(B::float_reshape(y, Shape::from(shape)))])
    })
}

/// `Softmax(axis)`.
pub fn softmax(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    along_axis(ctx, Some(false), |x, d| Ok(B::softmax(x, d)))
}

/// `LogSoftmax(axis)`.
pub fn log_softmax(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    along_axis(ctx, Some(true), |x, d| Ok(B::log_softmax(x, d)))
}

/// `Hardmax(axis)`: one-hot of the first maximum.
pub fn hardmax(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    along_axis(ctx, None, |x, d| {
        let shape = dims(&x);
        let idx = B::float_argmax(x.clone(), d, burn_backend::IntDType::I64);
        let n = shape[d];
        let dtype = x.dtype();
        let mut ar_shape = vec![1; shape.len()];
        ar_shape[d] = n;
        let ar = B::int_reshape(
            B::int_arange(0..n as i64, &crate::value::device(), idx.dtype().into()),
            Shape::from(ar_shape),
        );
        let hit = B::int_equal(
            B::int_expand(idx, Shape::from(shape.clone())),
            B::int_expand(ar, Shape::from(shape.clone())),
            BOOL,
        );
        let zeros = B::float_zeros(Shape::from(shape), &crate::value::device(), dtype.into());
        Ok(B::float_mask_fill(zeros, hit, s(1.0)))
    })
}
