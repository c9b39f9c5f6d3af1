//! `Gather` and `GatherElements`, with negative-index wrapping and bounds checks.

use burn_backend::Shape;
use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};

use super::shape::i64_value;
use super::util::{axis, not_tensor, on_host};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// Reads indices to the host, wraps negatives, checks bounds against `dim`.
fn checked_indices(idx: &Value, dim: usize) -> Result<Vec<i64>, String> {
    if !matches!(idx, Value::Int(_)) {
        return Err(format!("indices must be integers, found {}", idx.dtype()));
    }
    let n = dim as i64;
    idx.host_i64()?
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + n } else { i };
            if (0..n).contains(&j) {
                Ok(j)
            } else {
                Err(format!(
                    "index {i} is out of bounds for a dim of size {dim}"
                ))
            }
        })
        .collect()
}

/// `Gather(data, indices, axis)`: output shape `data[:axis] + indices + data[axis+1:]`.
pub fn gather(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    op(move |mut ins| {
        let data = ins.take(0)?;
        let idx = ins.take(1)?;
        let s = data.shape();
        let d = axis(a, s.len())?;
        let ishape = idx.shape();
        let mut out = s[..d].to_vec();
        out.extend_from_slice(&ishape);
        out.extend_from_slice(&s[d + 1..]);
        super::util::check_alloc(&out, data.dtype().size().max(1))?;
        let flat = checked_indices(&idx, s[d])?;
        let count = flat.len();
        let Value::Int(it) = i64_value(vec![count], flat)? else {
            unreachable!("i64_value builds an int tensor")
        };
        let picked = match data {
            Value::Float(t) => Value::Float(B::float_select(t, d, it)),
            Value::Int(t) => Value::Int(B::int_select(t, d, it)),
            Value::Bool(t) => Value::Bool(B::bool_select(t, d, it)),
            Value::Host(t) => on_host(&t, |i| match i {
                Value::Int(i) => Ok(Value::Int(B::int_select(i, d, it))),
                other => Err(not_tensor(&other)),
            })?,
            other => return Err(not_tensor(&other)),
        };
        Ok(vec![picked.reshape(&out)])
    })
}

/// `GatherElements(data, indices, axis)`.
pub fn gather_elements(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    op(move |mut ins| {
        let data = ins.take(0)?;
        let idx = ins.take(1)?;
        let s = data.shape();
        let d = axis(a, s.len())?;
        let is = idx.shape();
        if is.len() != s.len() {
            return Err(format!(
                "indices rank {} differs from data rank {}",
                is.len(),
                s.len()
            ));
        }
        let flat = checked_indices(&idx, s[d])?;
        let Value::Int(it) = i64_value(is.clone(), flat)? else {
            unreachable!("i64_value builds an int tensor")
        };
        let it = B::int_reshape(it, Shape::from(is));
        Ok(vec![match data {
            Value::Float(t) => Value::Float(B::float_gather(d, t, it)),
            Value::Int(t) => Value::Int(B::int_gather(d, t, it)),
            Value::Bool(t) => Value::Bool(B::bool_gather(d, t, it)),
            Value::Host(t) => on_host(&t, |i| match i {
                Value::Int(i) => Ok(Value::Int(B::int_gather(d, i, it))),
                other => Err(not_tensor(&other)),
            })?,
            other => return Err(not_tensor(&other)),
        }])
    })
}
