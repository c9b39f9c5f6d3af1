//! Element-wise unary ops.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_flex::FlexTensor;

use super::pointwise::{Pointwise, vectorized};
use super::util::float;
use super::{BuildCtx, Inputs, Op, op};
use crate::value::{B, BOOL, Value};

fn float_unary(f: fn(FlexTensor) -> FlexTensor) -> Result<Box<dyn Op>, String> {
    op(move |mut ins: Inputs| Ok(vec![Value::Float(f(float(ins.take(0)?)?))]))
}

macro_rules! float_unary_ops {
    ($($name:ident => $f:expr),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "` on float tensors.")]
        pub fn $name(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
            float_unary($f)
        }
    )*};
}

float_unary_ops! {
    acos => B::float_acos, acosh => B::float_acosh, asin => B::float_asin,
    asinh => B::float_asinh, atan => B::float_atan, atanh => B::float_atanh,
    ceil => B::float_ceil, cos => B::float_cos, cosh => B::float_cosh,
    floor => B::float_floor, log => B::float_log,
    reciprocal => B::float_recip, round => B::float_round, sin => B::float_sin,
    sinh => B::float_sinh, sqrt => B::float_sqrt, tan => B::float_tan,
}

/// `Tanh`.
pub fn tanh(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    vectorized(Pointwise::Tanh, B::float_tanh)
}

/// `Exp`.
pub fn exp(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    vectorized(Pointwise::Exp, B::float_exp)
}

/// `Erf`.
pub fn erf(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    vectorized(Pointwise::Erf, B::float_erf)
}

/// `Abs` (float or int).
pub fn abs(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        Ok(vec![match ins.take(0)? {
            Value::Float(t) => Value::Float(B::float_abs(t)),
            Value::Int(t) => Value::Int(B::int_abs(t)),
            other => return Err(super::util::unsupported_value("Abs", &other)),
        }])
    })
}

/// `Neg` (float or int).
pub fn neg(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        Ok(vec![match ins.take(0)? {
            Value::Float(t) => Value::Float(B::float_neg(t)),
            Value::Int(t) => Value::Int(B::int_neg(t)),
            other => return Err(super::util::unsupported_value("Neg", &other)),
        }])
    })
}

/// `Sign` (float or int).
pub fn sign(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        Ok(vec![match ins.take(0)? {
            Value::Float(t) => Value::Float(B::float_sign(t)),
            Value::Int(t) => Value::Int(B::int_sign(t)),
            other => return Err(super::util::unsupported_value("Sign", &other)),
        }])
    })
}

/// `Not` on bool tensors.
pub fn not(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| match ins.take(0)? {
        Value::Bool(t) => Ok(vec![Value::Bool(B::bool_not(t))]),
        other => Err(format!("Not expects bool, found {}", other.dtype())),
    })
}

/// `IsNaN`.
pub fn is_nan(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        Ok(vec![Value::Bool(B::float_is_nan(
            float(ins.take(0)?)?,
            BOOL,
        ))])
    })
}

/// `IsInf` with `detect_positive` / `detect_negative`.
pub fn is_inf(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let pos = ctx.int("detect_positive", 1)? != 0;
    let neg = ctx.int("detect_negative", 1)? != 0;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let inf = B::float_is_inf(x.clone(), BOOL);
        let out = match (pos, neg) {
            (true, true) => inf,
            (true, false) => B::bool_and(inf, B::float_greater_elem(x, 0.0.into(), BOOL)),
            (false, true) => B::bool_and(inf, B::float_lower_elem(x, 0.0.into(), BOOL)),
            (false, false) => B::bool_and(inf.clone(), B::bool_not(inf)),
        };
        Ok(vec![Value::Bool(out)])
    })
}

/// `Identity`: passes its input through (a tensor, a sequence or an optional).
pub fn identity(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| Ok(vec![ins.take(0)?]))
}

/// `Dropout`: identity (plus an all-true mask when something reads it) in inference mode or with ratio
/// 0; in training mode (opset 12+ `training_mode` input) it drops each element with
/// probability `ratio` (input, default 0.5) and scales the rest by `1 / (1 - ratio)`, drawing
/// from a generator seeded by the `seed` attribute.
pub fn dropout(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let want_mask = ctx.wants_output(1);
    let rng = super::loss::seeded(ctx)?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let ratio = ins.opt(1);
        if let Some(training) = ins.opt(2)
            && training.host_i64()?.first().is_some_and(|&t| t != 0)
        {
            let ratio = match ratio {
                Some(r) => match r.host_f64()?.as_slice() {
                    [r] => *r,
                    other => {
                        return Err(format!(
                            "ratio must hold one element, found {}",
                            other.len()
                        ));
                    }
                },
                None => 0.5,
            };
            if ratio != 0.0 {
                let (y, mask) = super::loss::dropout_training(&x, ratio, &rng)?;
                return Ok(if want_mask { vec![y, mask] } else { vec![y] });
            }
        }
        if !want_mask {
            return Ok(vec![x]);
        }
        let shape = burn_backend::Shape::from(x.shape());
        let mask = B::bool_ones(shape, &crate::value::device(), BOOL);
        Ok(vec![x, Value::Bool(mask)])
    })
}
