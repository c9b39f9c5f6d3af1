//! Helpers shared by the op families: type checks, axes, broadcasting.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_backend::{Shape, TensorMetadata};
use burn_flex::FlexTensor;

use std::sync::Arc;

use burnish_model::TensorData;

use crate::value::{B, Value};

/// The float tensor inside `v`, or an error naming what was found.
pub fn float(v: Value) -> Result<FlexTensor, String> {
    match v {
        Value::Float(t) => Ok(t),
        other => Err(format!("expected a float tensor, found {}", other.dtype())),
    }
}

/// Normalizes a possibly negative axis for a tensor of `rank` dimensions.
pub fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r.max(1) {
        return Err(format!("axis {a} is out of range for rank {rank}"));
    }
    Ok(n as usize)
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(format!(
                    "shapes {a:?} and {b:?} cannot be broadcast together"
                ));
            }
        };
    }
    check_numel(&out)?;
    Ok(out)
}

/// Reshapes `v` to `rank` dimensions by prepending ones.
pub fn lift_rank(v: Value, rank: usize) -> Value {
    let shape = v.shape();
    if shape.len() >= rank {
        return v;
    }
    let mut s = vec![1; rank - shape.len()];
    s.extend(shape);
    v.reshape(&s)
}

/// Expands `v` to exactly `shape` (broadcasting dims of size one).
pub fn expand_to(v: Value, shape: &[usize]) -> Result<Value, String> {
    if v.shape() == shape {
        return Ok(v);
    }
    let v = lift_rank(v, shape.len());
    let s = Shape::from(shape.to_vec());
    Ok(match v {
        Value::Float(t) => Value::Float(B::float_expand(t, s)),
        Value::Int(t) => Value::Int(B::int_expand(t, s)),
        Value::Bool(t) => Value::Bool(B::bool_expand(t, s)),
        Value::Host(t) => return on_host(&t, |i| expand_to(i, shape)),
        other => return Err(not_tensor(&other)),
    })
}

/// The error for a sequence or optional where an op needs a tensor.
pub fn not_tensor(v: &Value) -> String {
    format!("expected a tensor, found {}", v.kind())
}

/// The error for a value whose element type an op does not take.
pub fn unsupported_value(op: &str, v: &Value) -> String {
    format!("{op} does not take {}", v.kind())
}

/// Runs a structural op (one that only moves, repeats or drops elements) on a host tensor
/// (strings, float8, ...): `f` runs on a backend tensor of element indices of the same shape,
/// and the host elements are picked by the indices it returns.
pub fn on_host(
    t: &TensorData,
    f: impl FnOnce(Value) -> Result<Value, String>,
) -> Result<Value, String> {
    let n = t.len() as i64;
    let idx = Value::from_data(&TensorData::from_i64(t.shape.clone(), (0..n).collect()))?;
    let moved = f(idx)?;
    let shape = moved.shape();
    let picked: Vec<usize> = moved
        .to_i64_vec()?
        .into_iter()
        .map(|i| usize::try_from(i).unwrap_or(usize::MAX))
        .collect();
    let data = t
        .data
        .select(&picked)
        .ok_or("an element index is out of range")?;
    let out = TensorData::new(shape, data).map_err(|e| e.to_string())?;
    Ok(Value::Host(Arc::new(out)))
}

/// Shape of a primitive, as a vector.
pub fn dims(t: &FlexTensor) -> Vec<usize> {
    t.shape().to_vec()
}

/// Converts a float tensor to a Vec<f32> on the host (any float dtype).
pub fn host_f32(t: &FlexTensor) -> Result<Vec<f32>, String> {
    let v = Value::Float(t.clone()).to_f64_vec()?;
    Ok(v.into_iter().map(|x| x as f32).collect())
}

/// Uploads a host f32 vector with `shape`.
pub fn upload_f32(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    use burn_backend::TensorData;
    B::float_from_data(
        TensorData::new(data, Shape::from(shape)),
        &crate::value::device(),
    )
}

/// Resolves a list of axes (possibly negative) for `rank`, sorted and deduplicated.
pub fn axes(list: &[i64], rank: usize) -> Result<Vec<usize>, String> {
    let mut out = list
        .iter()
        .map(|&a| axis(a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Checks, before anything is allocated, that a tensor of `shape` fits the memory budget
/// (`--max-memory`, see [`burnish_model::limits`]) when its elements take `elem_bytes`;
/// returns its element count. The one check every op makes before creating a tensor whose
/// size comes from attributes or data.
pub fn check_alloc(shape: &[usize], elem_bytes: usize) -> Result<usize, String> {
    burnish_model::limits::check_tensor(shape, elem_bytes)?;
    Ok(shape.iter().product())
}

/// [`check_alloc`] for 4-byte elements (f32 buffers, the common case).
pub fn check_numel(shape: &[usize]) -> Result<usize, String> {
    check_alloc(shape, 4)
}
