//! Reductions (`ReduceSum`, `ReduceMean`, ...) and `ArgMax`/`ArgMin`.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_backend::{DType as BurnDType, IntDType, Scalar, Shape};
use burn_flex::FlexTensor;

use super::util::{axes, axis, dims};
use super::{BuildCtx, Inputs, Op, op};
use crate::value::{B, Value};

#[derive(Clone, Copy)]
enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    SumSquare,
    L1,
    L2,
    LogSumExp,
    LogSum,
}

fn reduce_float(mut t: FlexTensor, ax: &[usize], kind: Kind) -> FlexTensor {
    let count: usize = ax.iter().map(|&a| dims(&t)[a]).product();
    t = match kind {
        Kind::SumSquare | Kind::L2 => B::float_mul(t.clone(), t),
        Kind::L1 => B::float_abs(t),
        _ => t,
    };
    let mut shift = None;
    if let Kind::LogSumExp = kind {
        let mut m = t.clone();
        for &a in ax {
            m = B::float_max_dim(m, a);
        }
        t = B::float_exp(B::float_sub(t, m.clone()));
        shift = Some(m);
    }
    for &a in ax {
        t = match kind {
            Kind::Max => B::float_max_dim(t, a),
            Kind::Min => B::float_min_dim(t, a),
            Kind::Prod => B::float_prod_dim(t, a),
            _ => B::float_sum_dim(t, a),
        };
    }
    match kind {
        Kind::Mean => B::float_div_scalar(t, Scalar::from(count as f32)),
        Kind::L2 => B::float_sqrt(t),
        Kind::LogSum => B::float_log(t),
        Kind::LogSumExp => B::float_add(B::float_log(t), shift.expect("set above")),
        _ => t,
    }
}

fn reduce_int(mut t: FlexTensor, ax: &[usize], kind: Kind) -> Result<FlexTensor, String> {
    let count: usize = ax.iter().map(|&a| dims(&t)[a]).product();
    if let Kind::SumSquare = kind {
        t = B::int_mul(t.clone(), t);
    }
    if let Kind::L1 = kind {
        t = B::int_abs(t);
    }
    for &a in ax {
        t = match kind {
            Kind::Sum | Kind::Mean | Kind::SumSquare | Kind::L1 => B::int_sum_dim(t, a),
            Kind::Max => B::int_max_dim(t, a),
            Kind::Min => B::int_min_dim(t, a),
            Kind::Prod => B::int_prod_dim(t, a),
            _ => return Err("this reduction needs a float tensor".into()),
        };
    }
    if let Kind::Mean = kind {
        t = B::int_div_scalar(t, Scalar::from(count as i64));
    }
    Ok(t)
}

/// The value a reduction of no element gives (`None`: an error for this kind and type).
fn identity(kind: Kind, dtype: BurnDType) -> Option<Scalar> {
    let int_range = || -> Option<(i64, u64)> {
        Some(match dtype {
            BurnDType::I8 => (i8::MIN as i64, i8::MAX as u64),
            BurnDType::I16 => (i16::MIN as i64, i16::MAX as u64),
            BurnDType::I32 => (i32::MIN as i64, i32::MAX as u64),
            BurnDType::I64 => (i64::MIN, i64::MAX as u64),
            BurnDType::U8 => (0, u8::MAX as u64),
            BurnDType::U16 => (0, u16::MAX as u64),
            BurnDType::U32 => (0, u32::MAX as u64),
            BurnDType::U64 => (0, u64::MAX),
            _ => return None,
        })
    };
    let float = dtype.is_float();
    Some(match kind {
        Kind::Sum | Kind::SumSquare | Kind::L1 | Kind::L2 => Scalar::Int(0),
        Kind::Prod => Scalar::Int(1),
        Kind::Mean if float => Scalar::Float(f64::NAN),
        Kind::Mean => Scalar::Int(0),
        Kind::Max if float => Scalar::Float(f64::NEG_INFINITY),
        Kind::Max => Scalar::Int(int_range()?.0),
        Kind::Min if float => Scalar::Float(f64::INFINITY),
        Kind::Min => Scalar::UInt(int_range()?.1),
        Kind::LogSum | Kind::LogSumExp if float => Scalar::Float(f64::NEG_INFINITY),
        Kind::LogSum | Kind::LogSumExp => return None,
    })
}

/// The reduction of an empty tensor: `out` filled with the kind's identity.
fn reduce_empty(x: &Value, out: &[usize], kind: Kind) -> Result<Value, String> {
    let dtype = x.prim().ok_or_else(|| super::util::not_tensor(x))?.dtype();
    let fill = identity(kind, dtype)
        .ok_or_else(|| format!("this reduction of an empty {} tensor", x.dtype()))?;
    let (shape, dev) = (Shape::from(out.to_vec()), crate::value::device());
    Ok(match x {
        Value::Float(_) => Value::Float(B::float_full(shape, fill, &dev, dtype.into())),
        Value::Int(_) => Value::Int(B::int_full(shape, fill, &dev, dtype.into())),
        Value::Bool(_) => {
            let all = matches!(kind, Kind::Min | Kind::Prod);
            let t = B::bool_zeros(shape, &dev, dtype.into());
            Value::Bool(if all { B::bool_not(t) } else { t })
        }
        other => return Err(super::util::not_tensor(other)),
    })
}

/// `ReduceMax` (any) and `ReduceMin` (all) of a bool tensor.
fn reduce_bool(mut t: FlexTensor, ax: &[usize], kind: Kind) -> Result<FlexTensor, String> {
    for &a in ax {
        t = match kind {
            Kind::Max => B::bool_any_dim(t, a),
            Kind::Min => B::bool_all_dim(t, a),
            _ => return Err("only ReduceMax and ReduceMin take a bool tensor".into()),
        };
    }
    Ok(t)
}

fn build(ctx: &BuildCtx, kind: Kind, axes_became_input_at: i64) -> Result<Box<dyn Op>, String> {
    let keep = ctx.int("keepdims", 1)? != 0;
    let noop_empty = ctx.int("noop_with_empty_axes", 0)? != 0;
    let attr_axes = ctx.ints("axes")?;
    let from_input = ctx.opset >= axes_became_input_at;
    op(move |mut ins: Inputs| {
        let x = ins.take(0)?;
        let list = if from_input {
            ins.opt(1).map(|v| v.host_i64()).transpose()?
        } else {
            attr_axes.clone()
        };
        let shape = x.shape();
        let rank = shape.len();
        let ax = match list {
            Some(l) if !l.is_empty() => axes(&l, rank)?,
            _ if noop_empty => return Ok(vec![x]),
            _ => (0..rank).collect(),
        };
        let y = if x.numel() == 0 {
            let kept: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(i, &d)| if ax.contains(&i) { 1 } else { d })
                .collect();
            reduce_empty(&x, &kept, kind)?
        } else {
            match x {
                Value::Float(t) => Value::Float(reduce_float(t, &ax, kind)),
                Value::Int(t) => Value::Int(reduce_int(t, &ax, kind)?),
                Value::Bool(t) => Value::Bool(reduce_bool(t, &ax, kind)?),
                other => return Err(super::util::unsupported_value("a reduction", &other)),
            }
        };
        if keep {
            return Ok(vec![y]);
        }
        let out: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !ax.contains(i))
            .map(|(_, &d)| d)
            .collect();
        Ok(vec![y.reshape(&out)])
    })
}

macro_rules! reductions {
    ($($name:ident => $kind:ident @ $opset:literal),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($name), "`.")]
        pub fn $name(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
            build(ctx, Kind::$kind, $opset)
        }
    )*};
}

reductions! {
    reduce_sum => Sum @ 13, reduce_mean => Mean @ 18, reduce_max => Max @ 18,
    reduce_min => Min @ 18, reduce_prod => Prod @ 18, reduce_sum_square => SumSquare @ 18,
    reduce_l1 => L1 @ 18, reduce_l2 => L2 @ 18, reduce_log_sum_exp => LogSumExp @ 18,
    reduce_log_sum => LogSum @ 18,
}

fn arg(ctx: &BuildCtx, max: bool) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    let keep = ctx.int("keepdims", 1)? != 0;
    let last = ctx.int("select_last_index", 0)? != 0;
    op(move |mut ins| {
        let mut x = ins.take(0)?;
        let shape = x.shape();
        let d = axis(a, shape.len())?;
        if last {
            x = match x {
                Value::Float(t) => Value::Float(B::float_flip(t, &[d])),
                Value::Int(t) => Value::Int(B::int_flip(t, &[d])),
                b => b,
            };
        }
        let idx = match x {
            Value::Float(t) if max => B::float_argmax(t, d, IntDType::I64),
            Value::Float(t) => B::float_argmin(t, d, IntDType::I64),
            Value::Int(t) if max => B::int_argmax(t, d),
            Value::Int(t) => B::int_argmin(t, d),
            other => return Err(super::util::unsupported_value("ArgMax/ArgMin", &other)),
        };
        let mut idx = B::int_cast(idx, BurnDType::I64.into());
        if last {
            let n = Scalar::from(shape[d] as i64 - 1);
            idx = B::int_neg(B::int_sub_scalar(idx, n));
        }
        let mut out = shape.clone();
        if keep {
            out[d] = 1;
        } else {
            out.remove(d);
        }
        Ok(vec![Value::Int(B::int_reshape(idx, Shape::from(out)))])
    })
}

/// `ArgMax`.
pub fn arg_max(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    arg(ctx, true)
}

/// `ArgMin`.
pub fn arg_min(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    arg(ctx, false)
}
