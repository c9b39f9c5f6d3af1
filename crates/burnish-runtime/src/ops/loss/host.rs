//! Host-side helpers of the loss family: float tensors as `f64` vectors and back, in any
//! element type.

use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use crate::value::Value;

/// A float tensor read back to the host as `f64`, with its element type and shape.
#[derive(Debug)]
pub(crate) struct HostFloat {
    /// Element type of the tensor it came from.
    pub dtype: DType,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Elements in row-major order.
    pub data: Vec<f64>,
}

/// Reads `v` as a float tensor; `what` names it in the error.
pub(crate) fn host_float(v: &Value, what: &str) -> Result<HostFloat, String> {
    let dtype = v.dtype();
    if !dtype.is_float() {
        return Err(format!("{what} must be a float tensor, found {dtype}"));
    }
    let t = v.host()?;
    let data = t
        .to_f64_vec()
        .ok_or_else(|| format!("{what} is not numeric"))?;
    Ok(HostFloat {
        dtype,
        shape: t.shape,
        data,
    })
}

/// Reads `v` as an integer tensor (e.g. class labels); `what` names it in the error.
pub(crate) fn host_int(v: &Value, what: &str) -> Result<(Vec<usize>, Vec<i64>), String> {
    let dtype = v.dtype();
    if !dtype.is_int() {
        return Err(format!("{what} must be an integer tensor, found {dtype}"));
    }
    let t = v.host()?;
    let data = t
        .to_i64_vec()
        .ok_or_else(|| format!("{what} is not numeric"))?;
    Ok((t.shape, data))
}

/// The single value of a one-element tensor `v` as `f64`; `what` names it in the error.
pub(crate) fn scalar_f64(v: &Value, what: &str) -> Result<f64, String> {
    match v.host_f64()?.as_slice() {
        [x] => Ok(*x),
        other => Err(format!(
            "{what} must hold one element, found {}",
            other.len()
        )),
    }
}

/// `data` converted to a buffer of `dtype` (floats round, integers truncate, bools test
/// for non-zero).
pub(crate) fn buffer(dtype: DType, data: Vec<f64>) -> Result<Buffer, String> {
    let it = data.into_iter();
    Ok(match dtype {
        DType::F32 => Buffer::F32(it.map(|x| x as f32).collect()),
        DType::F64 => Buffer::F64(it.collect()),
        DType::F16 => Buffer::F16(it.map(f16::from_f64).collect()),
        DType::BF16 => Buffer::BF16(it.map(bf16::from_f64).collect()),
        DType::I8 => Buffer::I8(it.map(|x| x as i8).collect()),
        DType::I16 => Buffer::I16(it.map(|x| x as i16).collect()),
        DType::I32 => Buffer::I32(it.map(|x| x as i32).collect()),
        DType::I64 => Buffer::I64(it.map(|x| x as i64).collect()),
        DType::U8 => Buffer::U8(it.map(|x| x as u8).collect()),
        DType::U16 => Buffer::U16(it.map(|x| x as u16).collect()),
        DType::U32 => Buffer::U32(it.map(|x| x as u32).collect()),
        DType::U64 => Buffer::U64(it.map(|x| x as u64).collect()),
        DType::Bool => Buffer::Bool(it.map(|x| x != 0.0).collect()),
        other => return Err(format!("{other} tensors are not supported")),
    })
}

/// Uploads `data` with `shape` as a tensor of `dtype`.
pub(crate) fn upload(dtype: DType, shape: Vec<usize>, data: Vec<f64>) -> Result<Value, String> {
    let t = TensorData::new(shape, buffer(dtype, data)?).map_err(|e| e.to_string())?;
    Value::upload(&t)
}
