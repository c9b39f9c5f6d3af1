//! Host access for the image and signal ops: float tensors as `f64` vectors that remember their
//! element type, scalar inputs, and the way back to run-time values.

use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use crate::value::Value;

/// A float tensor copied to the host as `f64`, with its shape and element type.
pub(crate) struct HostFloat {
    /// Elements in row-major order.
    pub data: Vec<f64>,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// The element type the tensor had (results are converted back to it).
    pub dtype: DType,
}

/// Copies float input `what` to the host; integer and bool tensors are rejected.
pub(crate) fn host_float(v: &Value, what: &str) -> Result<HostFloat, String> {
    if !matches!(v, Value::Float(_)) {
        return Err(format!(
            "input `{what}` must be a float tensor, found {}",
            v.dtype()
        ));
    }
    Ok(HostFloat {
        data: v.host_f64()?,
        shape: v.shape(),
        dtype: v.dtype(),
    })
}

/// A float value of element type `dtype` (f32, f16, bf16 or f64) from `f64` elements.
pub(crate) fn float_value(
    data: Vec<f64>,
    shape: Vec<usize>,
    dtype: DType,
) -> Result<Value, String> {
    let buf = match dtype {
        DType::F32 => Buffer::F32(data.into_iter().map(|v| v as f32).collect()),
        DType::F16 => Buffer::F16(data.into_iter().map(f16::from_f64).collect()),
        DType::BF16 => Buffer::BF16(data.into_iter().map(bf16::from_f64).collect()),
        DType::F64 => Buffer::F64(data),
        other => return Err(format!("{other} is not a float type")),
    };
    Value::upload(&TensorData::new(shape, buf).map_err(|e| e.to_string())?)
}

/// An int64 value.
pub(crate) fn i64_value(data: Vec<i64>, shape: Vec<usize>) -> Result<Value, String> {
    Value::upload(&TensorData::new(shape, Buffer::I64(data)).map_err(|e| e.to_string())?)
}

/// The single element of scalar-like input `what` (shape `[]` or `[1]`), as i64.
pub(crate) fn scalar_i64(v: &Value, what: &str) -> Result<i64, String> {
    match v.host_i64()?.as_slice() {
        [x] => Ok(*x),
        other => Err(format!(
            "input `{what}` must hold one value, found {} values",
            other.len()
        )),
    }
}

/// The single element of scalar-like input `what`, as f64.
pub(crate) fn scalar_f64(v: &Value, what: &str) -> Result<f64, String> {
    match v.host_f64()?.as_slice() {
        [x] => Ok(*x),
        other => Err(format!(
            "input `{what}` must hold one value, found {} values",
            other.len()
        )),
    }
}

/// The float element type of ONNX `output_datatype` code `code`.
pub(crate) fn float_dtype(code: i64, what: &str) -> Result<DType, String> {
    Ok(match code {
        1 => DType::F32,
        10 => DType::F16,
        11 => DType::F64,
        16 => DType::BF16,
        other => return Err(format!("`{what}` {other} is not a supported float type")),
    })
}

/// A value of ONNX element type `code` (any numeric type) from `f64` elements.
pub(crate) fn numeric_value(data: Vec<f64>, shape: Vec<usize>, code: i64) -> Result<Value, String> {
    let buf = match code {
        2 => Buffer::U8(data.into_iter().map(|v| v as u8).collect()),
        3 => Buffer::I8(data.into_iter().map(|v| v as i8).collect()),
        4 => Buffer::U16(data.into_iter().map(|v| v as u16).collect()),
        5 => Buffer::I16(data.into_iter().map(|v| v as i16).collect()),
        6 => Buffer::I32(data.into_iter().map(|v| v as i32).collect()),
        7 => Buffer::I64(data.into_iter().map(|v| v as i64).collect()),
        12 => Buffer::U32(data.into_iter().map(|v| v as u32).collect()),
        13 => Buffer::U64(data.into_iter().map(|v| v as u64).collect()),
        c => return float_value(data, shape, float_dtype(c, "output_datatype")?),
    };
    Value::upload(&TensorData::new(shape, buf).map_err(|e| e.to_string())?)
}
