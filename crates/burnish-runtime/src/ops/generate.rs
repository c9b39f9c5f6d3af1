//! Value-producing and type ops: `Constant`, `ConstantOfShape`, `Range`, `Cast`, `CastLike`,
//! `EyeLike`, `Trilu`.

use burn_backend::Scalar;
use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burnish_model::{Attribute, Buffer, DType, TensorData};

use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

mod cast;

pub use cast::{cast, cast_like, cast_value};

/// `Constant`: the value is uploaded once and shared by every run.
pub fn constant(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let data = constant_data(ctx)?;
    let v = Value::upload(&data)?;
    op(move |_| Ok(vec![v.clone()]))
}

/// The host value of a `Constant` node.
pub fn constant_data(ctx: &BuildCtx) -> Result<TensorData, String> {
    let (name, attr) = ctx
        .node
        .attrs
        .iter()
        .next()
        .ok_or("Constant without a value attribute")?;
    Ok(match (name.as_str(), attr) {
        ("value", Attribute::Tensor(t)) => t.clone(),
        ("value_float", Attribute::Float(f)) => TensorData::from_f32(vec![], vec![*f]),
        ("value_floats", Attribute::Floats(f)) => TensorData::from_f32(vec![f.len()], f.clone()),
        ("value_int", Attribute::Int(i)) => TensorData::from_i64(vec![], vec![*i]),
        ("value_ints", Attribute::Ints(i)) => TensorData::from_i64(vec![i.len()], i.clone()),
        (other, _) => return Err(format!("Constant attribute `{other}` is not supported")),
    })
}

/// `ConstantOfShape(shape, value)`.
pub fn constant_of_shape(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let fill = match ctx.node.attrs.get("value") {
        Some(Attribute::Tensor(t)) if t.len() == 1 => t.clone(),
        Some(_) => return Err("ConstantOfShape value must be a one-element tensor".into()),
        None => TensorData::from_f32(vec![1], vec![0.0]),
    };
    op(move |mut ins| {
        let shape = ins.take(0)?.host_i64()?;
        if shape.iter().any(|&d| d < 0) {
            return Err(format!("negative shape {shape:?}"));
        }
        let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let n = super::util::check_numel(&shape)?;
        let data = repeat(&fill.data, n);
        Ok(vec![Value::upload(
            &TensorData::new(shape, data).map_err(|e| e.to_string())?,
        )?])
    })
}

fn repeat(b: &Buffer, n: usize) -> Buffer {
    macro_rules! rep {
        ($($v:ident),*) => {
            match b {
                $(Buffer::$v(v) => Buffer::$v(vec![v[0].clone(); n]),)*
                Buffer::Narrow(d, v) => Buffer::Narrow(*d, vec![v[0]; n]),
            }
        };
    }
    rep!(
        F32, F16, BF16, F64, I8, I16, I32, I64, U8, U16, U32, U64, Bool, String
    )
}

/// `Range(start, limit, delta)`, computed on the host in f64 (float16/bfloat16 results are
/// rounded once, at least as precise as any `stash_type`).
pub fn range(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let start = ins.take(0)?;
        let dtype = start.dtype();
        let s = *start.host_f64()?.first().ok_or("empty start")?;
        let l = *ins.take(1)?.host_f64()?.first().ok_or("empty limit")?;
        let d = *ins.take(2)?.host_f64()?.first().ok_or("empty delta")?;
        if d == 0.0 {
            return Err("Range delta is 0".into());
        }
        if !(s.is_finite() && l.is_finite() && d.is_finite()) {
            return Err(format!(
                "Range({s}, {l}, {d}) has a value that is not finite"
            ));
        }
        let n = ((l - s) / d).ceil().max(0.0);
        if n >= usize::MAX as f64 {
            return Err(format!("Range({s}, {l}, {d}) is too long"));
        }
        let n = n as usize;
        super::util::check_alloc(&[n], 8).map_err(|e| format!("Range({s}, {l}, {d}): {e}"))?;
        let vals = (0..n).map(|i| s + i as f64 * d);
        let data = match dtype {
            DType::F32 => Buffer::F32(vals.map(|v| v as f32).collect()),
            DType::F64 => Buffer::F64(vals.collect()),
            DType::I32 => Buffer::I32(vals.map(|v| v as i32).collect()),
            DType::I64 => Buffer::I64(vals.map(|v| v as i64).collect()),
            DType::I16 => Buffer::I16(vals.map(|v| v as i16).collect()),
            DType::F16 => Buffer::F16(vals.map(half::f16::from_f64).collect()),
            DType::BF16 => Buffer::BF16(vals.map(half::bf16::from_f64).collect()),
            other => return Err(format!("Range of {other} is not supported")),
        };
        Ok(vec![Value::upload(
            &TensorData::new(vec![n], data).map_err(|e| e.to_string())?,
        )?])
    })
}

/// `EyeLike(k, dtype)`.
pub fn eye_like(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let k = ctx.int("k", 0)?;
    let dtype = ctx
        .node
        .attrs
        .contains_key("dtype")
        .then(|| ctx.int("dtype", 1))
        .transpose()?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        if s.len() != 2 {
            return Err(format!("EyeLike needs a 2-D input, found {s:?}"));
        }
        let to = match dtype {
            Some(c) => DType::from_onnx(c as i32).ok_or("unknown EyeLike dtype")?,
            None => x.dtype(),
        };
        let mut v = vec![0.0f32; s[0] * s[1]];
        for i in 0..s[0] {
            let j = i as i64 + k;
            if (0..s[1] as i64).contains(&j) {
                v[i * s[1] + j as usize] = 1.0;
            }
        }
        cast_value(Value::upload(&TensorData::from_f32(s, v))?, to).map(|v| vec![v])
    })
}

/// `Trilu(input, k?, upper)`.
pub fn trilu(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let upper = ctx.int("upper", 1)? != 0;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let k = match ins.opt(1) {
            Some(v) => *v.host_i64()?.first().unwrap_or(&0),
            None => 0,
        };
        let s = x.shape();
        if s.len() < 2 {
            return Err("Trilu needs rank >= 2".into());
        }
        let (r, c) = (s[s.len() - 2], s[s.len() - 1]);
        let mut m = vec![false; r * c];
        for i in 0..r {
            for j in 0..c {
                let d = j as i64 - i as i64;
                m[i * c + j] = if upper { d < k } else { d > k };
            }
        }
        let mask = Value::upload(
            &TensorData::new(vec![r, c], Buffer::Bool(m)).map_err(|e| e.to_string())?,
        )?;
        let Value::Bool(mask) = super::util::expand_to(mask, &s)? else {
            unreachable!("mask is bool")
        };
        Ok(vec![match x {
            Value::Float(t) => Value::Float(B::float_mask_fill(t, mask, Scalar::from(0.0))),
            Value::Int(t) => Value::Int(B::int_mask_fill(t, mask, Scalar::from(0i64))),
            Value::Bool(t) => Value::Bool(B::bool_mask_fill(t, mask, false.into())),
            other => return Err(super::util::unsupported_value("Trilu", &other)),
        }])
    })
}
