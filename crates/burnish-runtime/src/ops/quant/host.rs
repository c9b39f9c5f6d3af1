//! Host access to quantized tensors.
//!
//! Codes and f32 data are read in place through flex's `FlexTensor::as_slice` when the tensor
//! is contiguous (the usual case: op outputs and uploaded inputs are); only strided views
//! (a transposed or sliced input) are copied into a contiguous buffer first. Scales and zero
//! points are small and copied into vectors. Outputs are built from a `Vec` that flex adopts
//! without copying.

use std::borrow::Cow;

use burn_backend::ops::{FloatTensorOps, IntTensorOps};
use burn_backend::{DType as BurnDType, Element, Shape, TensorData as BurnData};
use burn_flex::FlexTensor;
use burnish_kernels::Weights;
use burnish_model::{Buffer, TensorData};

use crate::ops::util::host_f32;
use crate::value::{B, Value, device};

macro_rules! in_place {
    ($($name:ident: $t:ty),*) => {$(
        /// The tensor's elements, borrowed when contiguous, else copied.
        pub(crate) fn $name(t: &FlexTensor) -> Cow<'_, [$t]> {
            match t.as_slice::<$t>() {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(
                    t.to_contiguous().as_slice::<$t>().map(<[$t]>::to_vec).unwrap_or_default(),
                ),
            }
        }
    )*};
}

in_place!(u8s: u8, i8s: i8, f32s_in_place: f32);

/// u8 or i8 codes of a quantized tensor.
pub(crate) enum Codes<'a> {
    /// Unsigned codes.
    U8(Cow<'a, [u8]>),
    /// Signed codes.
    I8(Cow<'a, [i8]>),
}

impl Codes<'_> {
    /// The codes as bytes (an i8 code as its two's-complement byte), without copying.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Codes::U8(v) => v,
            // SAFETY: i8 and u8 have one size and alignment; every byte is a valid u8.
            Codes::I8(v) => unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len()) },
        }
    }
}

/// The codes of a u8/i8 tensor, or an error naming `what`.
pub(crate) fn codes<'a>(v: &'a Value, what: &str) -> Result<Codes<'a>, String> {
    match (v, v.prim().map(|t| t.dtype())) {
        (Value::Int(t), Some(BurnDType::U8)) => Ok(Codes::U8(u8s(t))),
        (Value::Int(t), Some(BurnDType::I8)) => Ok(Codes::I8(i8s(t))),
        _ => Err(format!(
            "`{what}` must be uint8 or int8, found {}",
            v.dtype()
        )),
    }
}

/// The f32 elements of a float tensor (other float types converted).
pub(crate) fn floats<'a>(v: &'a Value, what: &str) -> Result<Cow<'a, [f32]>, String> {
    match v {
        Value::Float(t) if t.dtype() == BurnDType::F32 => Ok(f32s_in_place(t)),
        Value::Float(t) => Ok(Cow::Owned(host_f32(t)?)),
        other => Err(format!(
            "`{what}` must be a float tensor, found {}",
            other.dtype()
        )),
    }
}

/// Small integer parameters (zero points, biases) as i32.
pub(crate) fn ints(v: &Value) -> Result<Vec<i32>, String> {
    match (v, v.prim().map(|t| t.dtype())) {
        (Value::Int(t), Some(BurnDType::U8)) => Ok(u8s(t).iter().map(|&x| i32::from(x)).collect()),
        (Value::Int(t), Some(BurnDType::I8)) => Ok(i8s(t).iter().map(|&x| i32::from(x)).collect()),
        (Value::Int(_), _) => Ok(v.host_i64()?.into_iter().map(|x| x as i32).collect()),
        _ => Err(format!("expected an integer tensor, found {}", v.dtype())),
    }
}

/// Weight codes of a constant input.
pub(crate) fn const_weights(t: &TensorData) -> Option<Weights<'_>> {
    match &t.data {
        Buffer::I8(v) => Some(Weights::I8(v)),
        Buffer::U8(v) => Some(Weights::U8(v)),
        _ => None,
    }
}

/// A new integer value adopting `data`.
pub(crate) fn int_value<E: Element>(data: Vec<E>, shape: Vec<usize>) -> Value {
    Value::Int(B::int_from_data(
        BurnData::new(data, Shape::from(shape)),
        &device(),
    ))
}

/// A new f32 value adopting `data`.
pub(crate) fn f32_value(data: Vec<f32>, shape: Vec<usize>) -> Value {
    Value::Float(B::float_from_data(
        BurnData::new(data, Shape::from(shape)),
        &device(),
    ))
}

/// Checks that a scale or zero point is one value (per tensor) and returns it.
pub(crate) fn scalar<T: Copy>(v: &[T], what: &str) -> Result<T, String> {
    match v {
        [x] => Ok(*x),
        _ => Err(format!(
            "`{what}` must be a single value, found {} values",
            v.len()
        )),
    }
}

/// Expands a per-tensor (one value) or per-channel (`n` values) parameter to `n` values.
pub(crate) fn per_channel<T: Copy>(v: &[T], n: usize, what: &str) -> Result<Vec<T>, String> {
    match v.len() {
        1 => Ok(vec![v[0]; n]),
        len if len == n => Ok(v.to_vec()),
        len => Err(format!("`{what}` has {len} values, expected 1 or {n}")),
    }
}

/// Checks that every scale is finite and positive.
pub(crate) fn check_scales(v: &[f32], what: &str) -> Result<(), String> {
    match v.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        Some(s) => Err(format!("`{what}` = `{s}` is not a finite positive scale")),
        None => Ok(()),
    }
}

/// The constant values of input `positions` of the node being built, by input position (`None`
/// elsewhere and for omitted inputs), when every given input among `positions` is a constant;
/// `None` when one is computed at run time.
pub(crate) fn const_params(
    ctx: &crate::ops::BuildCtx,
    positions: &[usize],
) -> Result<Option<Vec<Option<Value>>>, String> {
    let given = |i: usize| ctx.node.input(i).is_some_and(|s| !s.is_empty());
    if positions
        .iter()
        .any(|&i| given(i) && ctx.consts.get(i).is_none_or(Option::is_none))
    {
        return Ok(None);
    }
    ctx.consts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.as_ref()
                .filter(|_| positions.contains(&i))
                .map(|t| Value::upload(t))
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
