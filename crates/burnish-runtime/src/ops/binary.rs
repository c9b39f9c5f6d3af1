//! Element-wise binary and variadic ops with numpy broadcasting: arithmetic, comparison,
//! logic, `Where`, `PRelu`.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_flex::FlexTensor;
use burnish_model::{Buffer, DType, TensorData};

use super::util::{broadcast_shape, expand_to, lift_rank};
use super::{BuildCtx, Inputs, Op, op};
use crate::value::{B, BOOL, Value};

type Prim = FlexTensor;

/// Aligns two values for a broadcasting binary op; returns them with equal rank.
fn align(a: Value, b: Value) -> Result<(Value, Value, Vec<usize>), String> {
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let rank = out.len();
    Ok((lift_rank(a, rank), lift_rank(b, rank), out))
}

fn check_same(a: &Value, b: &Value) -> Result<(), String> {
    if a.dtype() != b.dtype() {
        return Err(format!(
            "operands have different element types ({} and {})",
            a.dtype(),
            b.dtype()
        ));
    }
    Ok(())
}

/// Applies a numeric binary op with broadcasting.
pub fn arith(
    a: Value,
    b: Value,
    ff: fn(Prim, Prim) -> Prim,
    fi: fn(Prim, Prim) -> Prim,
) -> Result<Value, String> {
    check_same(&a, &b)?;
    let (a, b, _) = align(a, b)?;
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(ff(x, y))),
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(fi(x, y))),
        _ => Err("arithmetic on bool tensors".into()),
    }
}

fn arith_op(ff: fn(Prim, Prim) -> Prim, fi: fn(Prim, Prim) -> Prim) -> Result<Box<dyn Op>, String> {
    op(move |mut ins: Inputs| Ok(vec![arith(ins.take(0)?, ins.take(1)?, ff, fi)?]))
}

/// `Add`.
pub fn add(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    arith_op(B::float_add, B::int_add)
}
/// `Sub`.
pub fn sub(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    arith_op(B::float_sub, B::int_sub)
}
/// `Mul`.
pub fn mul(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    arith_op(B::float_mul, B::int_mul)
}
/// `Div`. Integer division truncates and, as in onnxruntime, division by zero is an error;
/// `MIN / -1` wraps to `MIN` (onnxruntime's own result for 8- and 16-bit integers; its 32- and
/// 64-bit kernels crash on it).
pub fn div(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        match (&a, &b) {
            (Value::Int(_), Value::Int(_)) => Ok(vec![int_host(a, b, IntOp::Div)?]),
            _ => Ok(vec![arith(a, b, B::float_div, B::int_div)?]),
        }
    })
}

/// Integer `Div` and `Mod`, computed on the host with the zero check and wrapping of
/// onnxruntime (`MIN % -1` is 0).
#[derive(Clone, Copy)]
enum IntOp {
    Div,
    /// `fmod=0`: the remainder takes the divisor's sign.
    Mod,
    /// `fmod=1`: the remainder takes the dividend's sign.
    Fmod,
}

trait HostInt: Copy + PartialEq + PartialOrd + Default {
    fn wrapping_div(self, o: Self) -> Self;
    fn wrapping_rem(self, o: Self) -> Self;
    fn wrapping_add(self, o: Self) -> Self;
}

macro_rules! host_int {
    ($($t:ty),*) => {$(
        impl HostInt for $t {
            fn wrapping_div(self, o: Self) -> Self { <$t>::wrapping_div(self, o) }
            fn wrapping_rem(self, o: Self) -> Self { <$t>::wrapping_rem(self, o) }
            fn wrapping_add(self, o: Self) -> Self { <$t>::wrapping_add(self, o) }
        }
    )*};
}
host_int!(i8, i16, i32, i64, u8, u16, u32, u64);

fn int_apply<T: HostInt>(a: &[T], b: &[T], op: IntOp) -> Result<Vec<T>, String> {
    let zero = T::default();
    if b.contains(&zero) {
        return Err(match op {
            IntOp::Div => "integer division by zero".into(),
            _ => "integer modulo by zero".into(),
        });
    }
    Ok(a.iter()
        .zip(b)
        .map(|(&x, &y)| match op {
            IntOp::Div => x.wrapping_div(y),
            IntOp::Fmod => x.wrapping_rem(y),
            IntOp::Mod => {
                let r = x.wrapping_rem(y);
                if r != zero && (r < zero) != (y < zero) {
                    r.wrapping_add(y)
                } else {
                    r
                }
            }
        })
        .collect())
}

fn int_host(a: Value, b: Value, op: IntOp) -> Result<Value, String> {
    check_same(&a, &b)?;
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let (a, b) = (expand_to(a, &out)?.host()?, expand_to(b, &out)?.host()?);
    use burnish_model::Buffer as H;
    let data = match (&a.data, &b.data) {
        (H::I8(x), H::I8(y)) => H::I8(int_apply(x, y, op)?),
        (H::I16(x), H::I16(y)) => H::I16(int_apply(x, y, op)?),
        (H::I32(x), H::I32(y)) => H::I32(int_apply(x, y, op)?),
        (H::I64(x), H::I64(y)) => H::I64(int_apply(x, y, op)?),
        (H::U8(x), H::U8(y)) => H::U8(int_apply(x, y, op)?),
        (H::U16(x), H::U16(y)) => H::U16(int_apply(x, y, op)?),
        (H::U32(x), H::U32(y)) => H::U32(int_apply(x, y, op)?),
        (H::U64(x), H::U64(y)) => H::U64(int_apply(x, y, op)?),
        _ => return Err(format!("integer arithmetic on {}", a.dtype())),
    };
    let t = burnish_model::TensorData::new(out, data).map_err(|e| e.to_string())?;
    Value::upload(&t)
}

/// `Pow`: float base with float or integer exponent; integer base with integer exponent.
pub fn pow(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let (a, b, _) = align(ins.take(0)?, ins.take(1)?)?;
        Ok(vec![match (a, b) {
            (Value::Float(x), Value::Float(y)) => {
                let y = if x.dtype() != y.dtype() {
                    B::float_cast(y, x.dtype().into())
                } else {
                    y
                };
                Value::Float(B::float_powf(x, y))
            }
            (Value::Float(x), Value::Int(y)) => {
                let y = B::int_into_float(y, x.dtype().into());
                Value::Float(B::float_powf(x, y))
            }
            (Value::Int(x), Value::Int(y)) => Value::Int(B::int_powi(x, y)),
            (Value::Int(x), Value::Float(y)) => {
                let dt = x.dtype();
                let xf = B::int_into_float(x, y.dtype().into());
                Value::Int(B::float_into_int(B::float_powf(xf, y), dt.into()))
            }
            _ => return Err("Pow on bool tensors".into()),
        }])
    })
}

/// `Mod`: `fmod=0` takes the divisor's sign (integers), `fmod=1` the dividend's (C fmod).
pub fn modulo(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let fmod = ctx.int("fmod", 0)? != 0;
    op(move |mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        check_same(&a, &b)?;
        let (a, b, _) = align(a, b)?;
        Ok(vec![match (a, b) {
            (Value::Float(x), Value::Float(y)) if fmod => {
                let q = B::float_div(x.clone(), y.clone());
                let t = B::float_trunc(q);
                Value::Float(B::float_sub(x, B::float_mul(t, y)))
            }
            (Value::Float(x), Value::Float(y)) => Value::Float(B::float_remainder(x, y)),
            (a @ Value::Int(_), b @ Value::Int(_)) => {
                int_host(a, b, if fmod { IntOp::Fmod } else { IntOp::Mod })?
            }
            _ => return Err("Mod on bool tensors".into()),
        }])
    })
}

/// Element-wise maximum (`want_max`) or minimum of two values.
fn pick(a: Value, b: Value, want_max: bool) -> Result<Value, String> {
    check_same(&a, &b)?;
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let (a, b) = (expand_to(a, &out)?, expand_to(b, &out)?);
    Ok(match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            let take_b = if want_max {
                B::float_lower(x.clone(), y.clone(), BOOL)
            } else {
                B::float_greater(x.clone(), y.clone(), BOOL)
            };
            Value::Float(B::float_mask_where(x, take_b, y))
        }
        (Value::Int(x), Value::Int(y)) => {
            let take_b = if want_max {
                B::int_lower(x.clone(), y.clone(), BOOL)
            } else {
                B::int_greater(x.clone(), y.clone(), BOOL)
            };
            Value::Int(B::int_mask_where(x, take_b, y))
        }
        _ => return Err("Max/Min on bool tensors".into()),
    })
}

fn fold(ins: Inputs, f: impl Fn(Value, Value) -> Result<Value, String>) -> Result<Value, String> {
    let mut it = ins.take_all().into_iter();
    let first = it.next().ok_or("no inputs")?;
    it.try_fold(first, f)
}

/// `Max` (variadic).
pub fn max(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|ins| Ok(vec![fold(ins, |a, b| pick(a, b, true))?]))
}
/// `Min` (variadic).
pub fn min(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|ins| Ok(vec![fold(ins, |a, b| pick(a, b, false))?]))
}
/// `Sum` (variadic).
pub fn sum(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|ins| {
        Ok(vec![fold(ins, |a, b| {
            arith(a, b, B::float_add, B::int_add)
        })?])
    })
}
/// `Mean` (variadic).
pub fn mean(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|ins| {
        let n = ins.len() as f32;
        match fold(ins, |a, b| arith(a, b, B::float_add, B::int_add))? {
            Value::Float(t) => Ok(vec![Value::Float(B::float_div_scalar(t, n.into()))]),
            _ => Err("Mean expects float tensors".into()),
        }
    })
}

type Cmp = fn(Prim, Prim, burn_backend::BoolStore) -> Prim;

fn compare(ff: Cmp, fi: Cmp, fb: Option<fn(Prim, Prim) -> Prim>) -> Result<Box<dyn Op>, String> {
    op(move |mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        check_same(&a, &b)?;
        let out = broadcast_shape(&a.shape(), &b.shape())?;
        let (a, b) = (expand_to(a, &out)?, expand_to(b, &out)?);
        Ok(vec![Value::Bool(match (a, b) {
            (Value::Float(x), Value::Float(y)) => ff(x, y, BOOL),
            (Value::Int(x), Value::Int(y)) => fi(x, y, BOOL),
            (Value::Bool(x), Value::Bool(y)) => fb.ok_or("comparison of bool tensors")?(x, y),
            _ => return Err("comparison of mixed types".into()),
        })])
    })
}

/// `Equal` (string tensors compare on the host).
pub fn equal(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let numeric = compare(B::float_equal, B::int_equal, Some(B::bool_equal))?;
    op(move |mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        if a.dtype() == DType::String || b.dtype() == DType::String {
            return Ok(vec![string_equal(a, b)?]);
        }
        numeric.run(Inputs::new(vec![Some(a), Some(b)]))
    })
}

/// Element-wise equality of two string tensors, with broadcasting.
fn string_equal(a: Value, b: Value) -> Result<Value, String> {
    check_same(&a, &b)?;
    let out = broadcast_shape(&a.shape(), &b.shape())?;
    let (Value::Host(x), Value::Host(y)) = (expand_to(a, &out)?, expand_to(b, &out)?) else {
        return Err("Equal expects two string tensors".into());
    };
    let (Buffer::String(x), Buffer::String(y)) = (&x.data, &y.data) else {
        return Err("Equal expects two string tensors".into());
    };
    let eq = x.iter().zip(y).map(|(p, q)| p == q).collect();
    let t = TensorData::new(out, Buffer::Bool(eq)).map_err(|e| e.to_string())?;
    Value::upload(&t)
}
/// `Greater`.
pub fn greater(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    compare(B::float_greater, B::int_greater, None)
}
/// `GreaterOrEqual`.
pub fn greater_equal(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    compare(B::float_greater_equal, B::int_greater_equal, None)
}
/// `Less`.
pub fn less(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    compare(B::float_lower, B::int_lower, None)
}
/// `LessOrEqual`.
pub fn less_equal(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    compare(B::float_lower_equal, B::int_lower_equal, None)
}

fn logic(f: fn(Prim, Prim) -> Prim) -> Result<Box<dyn Op>, String> {
    op(move |mut ins| {
        let (a, b) = (ins.take(0)?, ins.take(1)?);
        let out = broadcast_shape(&a.shape(), &b.shape())?;
        match (expand_to(a, &out)?, expand_to(b, &out)?) {
            (Value::Bool(x), Value::Bool(y)) => Ok(vec![Value::Bool(f(x, y))]),
            _ => Err("logical ops expect bool tensors".into()),
        }
    })
}

/// `And`.
pub fn and(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    logic(B::bool_and)
}
/// `Or`.
pub fn or(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    logic(B::bool_or)
}
/// `Xor`.
pub fn xor(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    logic(B::bool_xor)
}

/// `Where(cond, x, y)`.
pub fn where_op(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let (c, x, y) = (ins.take(0)?, ins.take(1)?, ins.take(2)?);
        check_same(&x, &y)?;
        let out = broadcast_shape(&broadcast_shape(&c.shape(), &x.shape())?, &y.shape())?;
        let Value::Bool(c) = expand_to(c, &out)? else {
            return Err("Where condition must be bool".into());
        };
        Ok(vec![match (expand_to(x, &out)?, expand_to(y, &out)?) {
            (Value::Float(x), Value::Float(y)) => Value::Float(B::float_mask_where(y, c, x)),
            (Value::Int(x), Value::Int(y)) => Value::Int(B::int_mask_where(y, c, x)),
            (Value::Bool(x), Value::Bool(y)) => Value::Bool(B::bool_mask_where(y, c, x)),
            _ => return Err("Where branches have different types".into()),
        }])
    })
}

/// `PRelu(x, slope)`: `x` where positive, `x * slope` elsewhere.
pub fn prelu(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let (x, slope) = (ins.take(0)?, ins.take(1)?);
        let out = broadcast_shape(&x.shape(), &slope.shape())?;
        match (expand_to(x, &out)?, expand_to(slope, &out)?) {
            (Value::Float(x), Value::Float(s)) => {
                let neg = B::float_lower_elem(x.clone(), 0.0.into(), BOOL);
                let scaled = B::float_mul(x.clone(), s);
                Ok(vec![Value::Float(B::float_mask_where(x, neg, scaled))])
            }
            _ => Err("PRelu expects float tensors".into()),
        }
    })
}
