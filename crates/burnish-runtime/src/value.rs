//! Run-time values: Burn tensors of any rank and element type.
//!
//! Burn's typed `Tensor<B, D>` fixes the rank at compile time; an interpreter of arbitrary ONNX
//! graphs needs the rank and dtype at run time, so values hold the backend's rank-erased tensor
//! primitives (float, int or bool) directly.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burn_backend::{
    DType as BurnDType, Shape, TensorData as BurnData, TensorMetadata, try_read_sync,
};
use burn_flex::{Flex, FlexDevice, FlexTensor};
use std::sync::Arc;

use burnish_model::{Buffer, DType, TensorData};

use crate::error::RuntimeError;

/// The Burn backend burnish executes on.
pub type B = Flex;

/// How boolean tensors are stored.
pub const BOOL: burn_backend::BoolStore = burn_backend::BoolStore::Native;

/// The device values live on.
pub fn device() -> FlexDevice {
    FlexDevice
}

/// One tensor value of the running graph.
#[derive(Clone, Debug)]
pub enum Value {
    /// f32, f16, bf16 or f64 elements.
    Float(FlexTensor),
    /// Integer elements (i8..i64, u8..u64).
    Int(FlexTensor),
    /// Booleans.
    Bool(FlexTensor),
    /// A tensor of an element type the backend does not hold (strings, float8, float4, 4- and
    /// 2-bit integers), kept on the host.
    Host(Arc<TensorData>),
    /// An ONNX sequence of tensors.
    Sequence(Vec<Value>),
    /// An ONNX optional; `None` is the empty optional.
    Optional(Option<Box<Value>>),
}

impl Value {
    /// The backend tensor, for the backend's element types (`None` for host tensors,
    /// sequences and optionals).
    pub fn prim(&self) -> Option<&FlexTensor> {
        match self {
            Value::Float(t) | Value::Int(t) | Value::Bool(t) => Some(t),
            _ => None,
        }
    }

    /// What the value is, for error messages: its element type, `sequence` or `optional`.
    pub fn kind(&self) -> String {
        match self {
            Value::Sequence(_) => "a sequence".into(),
            Value::Optional(_) => "an optional".into(),
            other => format!("a {} tensor", other.dtype()),
        }
    }

    /// Dimensions (empty for sequences and optionals).
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Value::Host(t) => t.shape.clone(),
            other => other.prim().map(|t| t.shape().to_vec()).unwrap_or_default(),
        }
    }

    /// Rank.
    pub fn rank(&self) -> usize {
        self.shape().len()
    }

    /// Number of elements (0 for sequences and optionals).
    pub fn numel(&self) -> usize {
        match self {
            Value::Host(t) => t.len(),
            other => other.prim().map_or(0, |t| t.shape().num_elements()),
        }
    }

    /// Element type, in burnish terms. For a sequence or an optional, that of its first
    /// element (float32 when empty): [`Value::kind`] tells them from tensors.
    pub fn dtype(&self) -> DType {
        match self {
            Value::Float(t) | Value::Int(t) | Value::Bool(t) => from_burn_dtype(t.dtype()),
            Value::Host(t) => t.dtype(),
            Value::Sequence(items) => items.first().map_or(DType::F32, Value::dtype),
            Value::Optional(inner) => inner.as_ref().map_or(DType::F32, |v| v.dtype()),
        }
    }

    /// True for a tensor (on the backend or the host), false for sequences and optionals.
    pub fn is_tensor(&self) -> bool {
        !matches!(self, Value::Sequence(_) | Value::Optional(_))
    }

    /// The same data with another shape (element count must match; sequences and optionals
    /// are returned unchanged).
    pub fn reshape(self, shape: &[usize]) -> Value {
        let s = Shape::from(shape.to_vec());
        match self {
            Value::Float(t) => Value::Float(B::float_reshape(crate::ops::util::dense(t), s)),
            Value::Int(t) => Value::Int(B::int_reshape(crate::ops::util::dense(t), s)),
            Value::Bool(t) => Value::Bool(B::bool_reshape(t, s)),
            Value::Host(t) => {
                let data = t.data.clone();
                match TensorData::new(shape.to_vec(), data) {
                    Ok(r) => Value::Host(Arc::new(r)),
                    Err(_) => Value::Host(t),
                }
            }
            other => other,
        }
    }

    /// Uploads host data.
    pub fn from_data(t: &TensorData) -> Result<Value, RuntimeError> {
        let shape = Shape::from(t.shape.clone());
        let d = device();
        Ok(match &t.data {
            Buffer::F32(v) => Value::Float(B::float_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::F16(v) => Value::Float(B::float_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::BF16(v) => {
                Value::Float(B::float_from_data(BurnData::new(v.clone(), shape), &d))
            }
            Buffer::F64(v) => Value::Float(B::float_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::I64(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::I32(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::I16(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::I8(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::U8(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::U16(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::U32(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::U64(v) => Value::Int(B::int_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::Bool(v) => Value::Bool(B::bool_from_data(BurnData::new(v.clone(), shape), &d)),
            Buffer::String(_) | Buffer::Narrow(..) => Value::Host(Arc::new(t.clone())),
        })
    }

    /// Downloads to host data.
    pub fn to_data(&self) -> Result<TensorData, RuntimeError> {
        let read_back = |message: String| RuntimeError::ReadBack { message };
        let data = match self.clone() {
            Value::Float(t) => try_read_sync(B::float_into_data(t)),
            Value::Int(t) => try_read_sync(B::int_into_data(t)),
            Value::Bool(t) => try_read_sync(B::bool_into_data(t)),
            Value::Host(t) => return Ok(t.as_ref().clone()),
            other => {
                return Err(RuntimeError::NotATensor {
                    found: other.kind(),
                });
            }
        }
        .ok_or_else(|| read_back("the backend cannot read tensors synchronously".into()))?
        .map_err(|e| read_back(format!("reading a tensor back failed: {e:?}")))?;
        let shape = data.shape().to_vec();
        let err = |e| read_back(format!("reading a tensor back failed: {e:?}"));
        let buffer = match data.dtype() {
            BurnDType::F32 => Buffer::F32(data.try_into_vec().map_err(err)?),
            BurnDType::F16 => Buffer::F16(data.try_into_vec().map_err(err)?),
            BurnDType::BF16 => Buffer::BF16(data.try_into_vec().map_err(err)?),
            BurnDType::F64 => Buffer::F64(data.try_into_vec().map_err(err)?),
            BurnDType::I64 => Buffer::I64(data.try_into_vec().map_err(err)?),
            BurnDType::I32 => Buffer::I32(data.try_into_vec().map_err(err)?),
            BurnDType::I16 => Buffer::I16(data.try_into_vec().map_err(err)?),
            BurnDType::I8 => Buffer::I8(data.try_into_vec().map_err(err)?),
            BurnDType::U8 => Buffer::U8(data.try_into_vec().map_err(err)?),
            BurnDType::U16 => Buffer::U16(data.try_into_vec().map_err(err)?),
            BurnDType::U32 => Buffer::U32(data.try_into_vec().map_err(err)?),
            BurnDType::U64 => Buffer::U64(data.try_into_vec().map_err(err)?),
            BurnDType::Bool(_) => Buffer::Bool(data.try_into_vec().map_err(err)?),
            other => return Err(read_back(format!("unsupported backend dtype {other:?}"))),
        };
        TensorData::new(shape, buffer).map_err(|e| read_back(e.to_string()))
    }

    /// Values as i64 on the host (for shape-like inputs).
    pub fn to_i64_vec(&self) -> Result<Vec<i64>, RuntimeError> {
        self.to_data()?.to_i64_vec().ok_or(RuntimeError::NotNumeric)
    }

    /// Values as f64 on the host.
    pub fn to_f64_vec(&self) -> Result<Vec<f64>, RuntimeError> {
        self.to_data()?.to_f64_vec().ok_or(RuntimeError::NotNumeric)
    }
}

/// The host transfers above with plain-message errors, the error type of op code
/// ([`crate::ops::Op::run`]) and of the other crate-internal helpers.
impl Value {
    /// [`Value::from_data`].
    pub(crate) fn upload(t: &TensorData) -> Result<Value, String> {
        Value::from_data(t).map_err(|e| e.to_string())
    }

    /// [`Value::to_data`].
    pub(crate) fn host(&self) -> Result<TensorData, String> {
        self.to_data().map_err(|e| e.to_string())
    }

    /// [`Value::to_i64_vec`].
    pub(crate) fn host_i64(&self) -> Result<Vec<i64>, String> {
        self.to_i64_vec().map_err(|e| e.to_string())
    }

    /// [`Value::to_f64_vec`].
    pub(crate) fn host_f64(&self) -> Result<Vec<f64>, String> {
        self.to_f64_vec().map_err(|e| e.to_string())
    }
}

/// Burn's dtype for a burnish dtype.
pub fn to_burn_dtype(d: DType) -> Option<BurnDType> {
    Some(match d {
        DType::F32 => BurnDType::F32,
        DType::F16 => BurnDType::F16,
        DType::BF16 => BurnDType::BF16,
        DType::F64 => BurnDType::F64,
        DType::I64 => BurnDType::I64,
        DType::I32 => BurnDType::I32,
        DType::I16 => BurnDType::I16,
        DType::I8 => BurnDType::I8,
        DType::U8 => BurnDType::U8,
        DType::U16 => BurnDType::U16,
        DType::U32 => BurnDType::U32,
        DType::U64 => BurnDType::U64,
        DType::Bool => BurnDType::Bool(burn_backend::BoolStore::Native),
        _ => return None,
    })
}

/// burnish's dtype for a Burn dtype (unknown ones map to f32, which the ops then reject).
pub fn from_burn_dtype(d: BurnDType) -> DType {
    match d {
        BurnDType::F32 => DType::F32,
        BurnDType::F16 => DType::F16,
        BurnDType::BF16 => DType::BF16,
        BurnDType::F64 => DType::F64,
        BurnDType::I64 => DType::I64,
        BurnDType::I32 => DType::I32,
        BurnDType::I16 => DType::I16,
        BurnDType::I8 => DType::I8,
        BurnDType::U8 => DType::U8,
        BurnDType::U16 => DType::U16,
        BurnDType::U32 => DType::U32,
        BurnDType::U64 => DType::U64,
        BurnDType::Bool(_) => DType::Bool,
        _ => DType::F32,
    }
}
