//! Host-side tensor values: constants, model inputs and outputs.

use half::{bf16, f16};

use crate::DType;
use crate::error::ModelError;

/// Typed element storage of a [`TensorData`].
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Buffer {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F64(Vec<f64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    Bool(Vec<bool>),
    String(Vec<String>),
    /// A narrow type ([`DType::is_narrow`]): one code per element, in the low bits of a byte.
    Narrow(DType, Vec<u8>),
}

macro_rules! each_buffer {
    ($buf:expr, $v:ident => $body:expr) => {
        match $buf {
            Buffer::F32($v) => $body,
            Buffer::F16($v) => $body,
            Buffer::BF16($v) => $body,
            Buffer::F64($v) => $body,
            Buffer::I8($v) => $body,
            Buffer::I16($v) => $body,
            Buffer::I32($v) => $body,
            Buffer::I64($v) => $body,
            Buffer::U8($v) => $body,
            Buffer::U16($v) => $body,
            Buffer::U32($v) => $body,
            Buffer::U64($v) => $body,
            Buffer::Bool($v) => $body,
            Buffer::String($v) => $body,
            Buffer::Narrow(_, $v) => $body,
        }
    };
}

impl Buffer {
    /// Element type of the buffer.
    pub fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F16(_) => DType::F16,
            Buffer::BF16(_) => DType::BF16,
            Buffer::F64(_) => DType::F64,
            Buffer::I8(_) => DType::I8,
            Buffer::I16(_) => DType::I16,
            Buffer::I32(_) => DType::I32,
            Buffer::I64(_) => DType::I64,
            Buffer::U8(_) => DType::U8,
            Buffer::U16(_) => DType::U16,
            Buffer::U32(_) => DType::U32,
            Buffer::U64(_) => DType::U64,
            Buffer::Bool(_) => DType::Bool,
            Buffer::String(_) => DType::String,
            Buffer::Narrow(d, _) => *d,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each_buffer!(self, v => v.len())
    }

    /// True when the buffer holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements at `indices`, in that order (`None` when an index is out of range).
    pub fn select(&self, indices: &[usize]) -> Option<Buffer> {
        fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Option<Vec<T>> {
            idx.iter().map(|&i| v.get(i).cloned()).collect()
        }
        Some(match self {
            Buffer::F32(v) => Buffer::F32(pick(v, indices)?),
            Buffer::F16(v) => Buffer::F16(pick(v, indices)?),
            Buffer::BF16(v) => Buffer::BF16(pick(v, indices)?),
            Buffer::F64(v) => Buffer::F64(pick(v, indices)?),
            Buffer::I8(v) => Buffer::I8(pick(v, indices)?),
            Buffer::I16(v) => Buffer::I16(pick(v, indices)?),
            Buffer::I32(v) => Buffer::I32(pick(v, indices)?),
            Buffer::I64(v) => Buffer::I64(pick(v, indices)?),
            Buffer::U8(v) => Buffer::U8(pick(v, indices)?),
            Buffer::U16(v) => Buffer::U16(pick(v, indices)?),
            Buffer::U32(v) => Buffer::U32(pick(v, indices)?),
            Buffer::U64(v) => Buffer::U64(pick(v, indices)?),
            Buffer::Bool(v) => Buffer::Bool(pick(v, indices)?),
            Buffer::String(v) => Buffer::String(pick(v, indices)?),
            Buffer::Narrow(d, v) => Buffer::Narrow(*d, pick(v, indices)?),
        })
    }

    /// The elements of each `(start, len)` run, runs in order (`None` when a run is out of
    /// range). Copies whole runs, so gathering rows of a large tensor stays cheap.
    pub fn runs(&self, runs: &[(usize, usize)]) -> Option<Buffer> {
        fn cut<T: Clone>(v: &[T], runs: &[(usize, usize)]) -> Option<Vec<T>> {
            let mut out = Vec::with_capacity(runs.iter().map(|r| r.1).sum());
            for &(start, len) in runs {
                out.extend_from_slice(v.get(start..start.checked_add(len)?)?);
            }
            Some(out)
        }
        Some(match self {
            Buffer::F32(v) => Buffer::F32(cut(v, runs)?),
            Buffer::F16(v) => Buffer::F16(cut(v, runs)?),
            Buffer::BF16(v) => Buffer::BF16(cut(v, runs)?),
            Buffer::F64(v) => Buffer::F64(cut(v, runs)?),
            Buffer::I8(v) => Buffer::I8(cut(v, runs)?),
            Buffer::I16(v) => Buffer::I16(cut(v, runs)?),
            Buffer::I32(v) => Buffer::I32(cut(v, runs)?),
            Buffer::I64(v) => Buffer::I64(cut(v, runs)?),
            Buffer::U8(v) => Buffer::U8(cut(v, runs)?),
            Buffer::U16(v) => Buffer::U16(cut(v, runs)?),
            Buffer::U32(v) => Buffer::U32(cut(v, runs)?),
            Buffer::U64(v) => Buffer::U64(cut(v, runs)?),
            Buffer::Bool(v) => Buffer::Bool(cut(v, runs)?),
            Buffer::String(v) => Buffer::String(cut(v, runs)?),
            Buffer::Narrow(d, v) => Buffer::Narrow(*d, cut(v, runs)?),
        })
    }

    /// The buffers one after another (`None` when their element types differ).
    pub fn concat(parts: &[&Buffer]) -> Option<Buffer> {
        let (first, rest) = parts.split_first()?;
        let mut out = (*first).clone();
        for p in rest {
            out.extend_from(p)?;
        }
        Some(out)
    }

    /// Appends `other`'s elements (`None` when the element types differ).
    fn extend_from(&mut self, other: &Buffer) -> Option<()> {
        match (self, other) {
            (Buffer::F32(a), Buffer::F32(b)) => a.extend_from_slice(b),
            (Buffer::F16(a), Buffer::F16(b)) => a.extend_from_slice(b),
            (Buffer::BF16(a), Buffer::BF16(b)) => a.extend_from_slice(b),
            (Buffer::F64(a), Buffer::F64(b)) => a.extend_from_slice(b),
            (Buffer::I8(a), Buffer::I8(b)) => a.extend_from_slice(b),
            (Buffer::I16(a), Buffer::I16(b)) => a.extend_from_slice(b),
            (Buffer::I32(a), Buffer::I32(b)) => a.extend_from_slice(b),
            (Buffer::I64(a), Buffer::I64(b)) => a.extend_from_slice(b),
            (Buffer::U8(a), Buffer::U8(b)) => a.extend_from_slice(b),
            (Buffer::U16(a), Buffer::U16(b)) => a.extend_from_slice(b),
            (Buffer::U32(a), Buffer::U32(b)) => a.extend_from_slice(b),
            (Buffer::U64(a), Buffer::U64(b)) => a.extend_from_slice(b),
            (Buffer::Bool(a), Buffer::Bool(b)) => a.extend_from_slice(b),
            (Buffer::String(a), Buffer::String(b)) => a.extend_from_slice(b),
            (Buffer::Narrow(d, a), Buffer::Narrow(e, b)) if *d == *e => a.extend_from_slice(b),
            _ => return None,
        }
        Some(())
    }

    /// Decodes little-endian bytes (ONNX `raw_data`, NPY payloads) into a typed buffer. 4- and
    /// 2-bit elements are unpacked, every code of every byte (the caller drops a pad element).
    pub fn from_le_bytes(dtype: DType, bytes: &[u8]) -> Result<Buffer, ModelError> {
        if dtype.is_narrow() {
            return Ok(Buffer::Narrow(
                dtype,
                crate::narrow::unpack(bytes, dtype.bits()),
            ));
        }
        fn chunks<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
            bytes
                .chunks_exact(N)
                .map(|c| f(c.try_into().expect("chunks_exact yields N bytes")))
                .collect()
        }
        let size = dtype.size();
        if size == 0 {
            return Err(ModelError::RawBytes { dtype });
        }
        if !bytes.len().is_multiple_of(size) {
            return Err(ModelError::PartialElement {
                bytes: bytes.len(),
                dtype,
            });
        }
        Ok(match dtype {
            DType::F32 => Buffer::F32(chunks(bytes, f32::from_le_bytes)),
            DType::F16 => Buffer::F16(chunks(bytes, f16::from_le_bytes)),
            DType::BF16 => Buffer::BF16(chunks(bytes, bf16::from_le_bytes)),
            DType::F64 => Buffer::F64(chunks(bytes, f64::from_le_bytes)),
            DType::I8 => Buffer::I8(bytes.iter().map(|&b| b as i8).collect()),
            DType::I16 => Buffer::I16(chunks(bytes, i16::from_le_bytes)),
            DType::I32 => Buffer::I32(chunks(bytes, i32::from_le_bytes)),
            DType::I64 => Buffer::I64(chunks(bytes, i64::from_le_bytes)),
            DType::U8 => Buffer::U8(bytes.to_vec()),
            DType::U16 => Buffer::U16(chunks(bytes, u16::from_le_bytes)),
            DType::U32 => Buffer::U32(chunks(bytes, u32::from_le_bytes)),
            DType::U64 => Buffer::U64(chunks(bytes, u64::from_le_bytes)),
            DType::Bool => Buffer::Bool(bytes.iter().map(|&b| b != 0).collect()),
            DType::String => unreachable!("size 0 returned above"),
            narrow => unreachable!("{narrow} is decoded above"),
        })
    }

    /// Encodes the buffer as little-endian bytes (strings are not encodable).
    pub fn to_le_bytes(&self) -> Option<Vec<u8>> {
        fn flat<const N: usize, T: Copy>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
            v.iter().flat_map(|&x| f(x)).collect()
        }
        Some(match self {
            Buffer::F32(v) => flat(v, f32::to_le_bytes),
            Buffer::F16(v) => flat(v, f16::to_le_bytes),
            Buffer::BF16(v) => flat(v, bf16::to_le_bytes),
            Buffer::F64(v) => flat(v, f64::to_le_bytes),
            Buffer::I8(v) => v.iter().map(|&x| x as u8).collect(),
            Buffer::I16(v) => flat(v, i16::to_le_bytes),
            Buffer::I32(v) => flat(v, i32::to_le_bytes),
            Buffer::I64(v) => flat(v, i64::to_le_bytes),
            Buffer::U8(v) => v.clone(),
            Buffer::U16(v) => flat(v, u16::to_le_bytes),
            Buffer::U32(v) => flat(v, u32::to_le_bytes),
            Buffer::U64(v) => flat(v, u64::to_le_bytes),
            Buffer::Bool(v) => v.iter().map(|&x| x as u8).collect(),
            Buffer::String(_) => return None,
            Buffer::Narrow(d, v) => crate::narrow::pack(v, d.bits()),
        })
    }

    /// Every element converted to `f64` (strings: `None`).
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        Some(match self {
            Buffer::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Buffer::BF16(v) => v.iter().map(|x| x.to_f64()).collect(),
            Buffer::F64(v) => v.clone(),
            Buffer::I8(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::I16(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::I32(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::U8(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::U16(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::U32(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::U64(v) => v.iter().map(|&x| x as f64).collect(),
            Buffer::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
            Buffer::String(_) => return None,
            Buffer::Narrow(d, v) => v
                .iter()
                .map(|&c| crate::narrow::decode(*d, c) as f64)
                .collect(),
        })
    }

    /// Every element converted to `i64` (floats truncate; strings: `None`).
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        Some(match self {
            Buffer::I64(v) => v.clone(),
            Buffer::I32(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::I16(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::I8(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::U8(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::U16(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::U32(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::U64(v) => v.iter().map(|&x| x as i64).collect(),
            Buffer::Bool(v) => v.iter().map(|&x| x as i64).collect(),
            other => other.to_f64_vec()?.into_iter().map(|x| x as i64).collect(),
        })
    }
}

/// A dense, row-major tensor held in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorData {
    /// Dimensions; empty for a scalar.
    pub shape: Vec<usize>,
    /// Elements in row-major order.
    pub data: Buffer,
}

impl TensorData {
    /// Builds a tensor, checking that the element count matches the shape.
    pub fn new(shape: Vec<usize>, data: Buffer) -> Result<Self, ModelError> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(ModelError::ShapeMismatch {
                expected: shape,
                elements: data.len(),
            });
        }
        Ok(Self { shape, data })
    }

    /// A float32 tensor. Panics if `data.len()` does not match the shape (programming error).
    pub fn from_f32(shape: Vec<usize>, data: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "shape/data mismatch"
        );
        Self {
            shape,
            data: Buffer::F32(data),
        }
    }

    /// An int64 tensor. Panics if `data.len()` does not match the shape (programming error).
    pub fn from_i64(shape: Vec<usize>, data: Vec<i64>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "shape/data mismatch"
        );
        Self {
            shape,
            data: Buffer::I64(data),
        }
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True for a tensor with no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Size of the element data in bytes.
    pub fn byte_size(&self) -> usize {
        match &self.data {
            Buffer::String(v) => v.iter().map(String::len).sum(),
            other => (other.len() * other.dtype().bits()).div_ceil(8),
        }
    }

    /// Values as `f64`, for comparisons and statistics.
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        self.data.to_f64_vec()
    }

    /// Values as `i64`, for shape-like tensors.
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        self.data.to_i64_vec()
    }

    /// Float32 view of the values, if the tensor is float32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Buffer::F32(v) => Some(v),
            _ => None,
        }
    }
}
