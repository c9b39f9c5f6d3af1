//! Host-side helpers of the indexing family: a numeric element trait, buffer dispatch macros,
//! index wrapping and row-major strides.

use std::cmp::Ordering;

use burnish_model::{Buffer, DType, TensorData};
use half::{bf16, f16};

use crate::value::Value;

/// An element type the host kernels compute on: arithmetic for the reductions, a total order
/// (NaN sorts above every number) for sorting and min/max, and conversions through `f64`.
pub(crate) trait Elem: Copy + Send + Sync + 'static {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// Sum (wrapping for integers, `or` for booleans).
    fn add(self, o: Self) -> Self;
    /// Product (wrapping for integers, `and` for booleans).
    fn mul(self, o: Self) -> Self;
    /// Total order; NaNs compare equal to each other and above every number.
    fn order(&self, o: &Self) -> Ordering;
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    /// The nearest value of this type (integers truncate and saturate).
    fn from_f64(v: f64) -> Self;
    /// The larger of two values under [`Elem::order`].
    fn max_of(self, o: Self) -> Self {
        if o.order(&self) == Ordering::Greater {
            o
        } else {
            self
        }
    }
    /// The smaller of two values under [`Elem::order`].
    fn min_of(self, o: Self) -> Self {
        if o.order(&self) == Ordering::Less {
            o
        } else {
            self
        }
    }
}

fn float_order(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn order(&self, o: &Self) -> Ordering { self.cmp(o) }
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { v as $t }
        }
    )*};
}
int_elem!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn add(self, o: Self) -> Self { self + o }
            fn mul(self, o: Self) -> Self { self * o }
            fn order(&self, o: &Self) -> Ordering { float_order(*self as f64, *o as f64) }
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(v: f64) -> Self { v as $t }
        }
    )*};
}
float_elem!(f32, f64);

macro_rules! half_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const ZERO: Self = <$t>::ZERO;
            const ONE: Self = <$t>::ONE;
            fn add(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() + o.to_f32()) }
            fn mul(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() * o.to_f32()) }
            fn order(&self, o: &Self) -> Ordering { float_order(self.to_f64(), o.to_f64()) }
            fn to_f64(self) -> f64 { <$t>::to_f64(self) }
            fn from_f64(v: f64) -> Self { <$t>::from_f64(v) }
        }
    )*};
}
half_elem!(f16, bf16);

impl Elem for bool {
    const ZERO: Self = false;
    const ONE: Self = true;
    fn add(self, o: Self) -> Self {
        self | o
    }
    fn mul(self, o: Self) -> Self {
        self & o
    }
    fn order(&self, o: &Self) -> Ordering {
        self.cmp(o)
    }
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
}

/// Runs `$body` with `$v` bound to the typed vector inside buffer `$buf` (by value or
/// reference, as `$buf` is given) and wraps the resulting vector back into a buffer of the same
/// type. String buffers return an error from the enclosing function.
macro_rules! map_buffer {
    ($buf:expr, $v:ident => $body:expr) => {
        match $buf {
            Buffer::F32($v) => Buffer::F32($body),
            Buffer::F16($v) => Buffer::F16($body),
            Buffer::BF16($v) => Buffer::BF16($body),
            Buffer::F64($v) => Buffer::F64($body),
            Buffer::I8($v) => Buffer::I8($body),
            Buffer::I16($v) => Buffer::I16($body),
            Buffer::I32($v) => Buffer::I32($body),
            Buffer::I64($v) => Buffer::I64($body),
            Buffer::U8($v) => Buffer::U8($body),
            Buffer::U16($v) => Buffer::U16($body),
            Buffer::U32($v) => Buffer::U32($body),
            Buffer::U64($v) => Buffer::U64($body),
            Buffer::Bool($v) => Buffer::Bool($body),
            other => return Err(format!("{} tensors are not supported", other.dtype())),
        }
    };
}
pub(crate) use map_buffer;

/// Like [`map_buffer`] over two buffers that must share one element type: `$a` and `$b` bind
/// the typed vectors and `$body` yields the vector of the result.
macro_rules! zip_buffers {
    ($x:expr, $y:expr, $a:ident, $b:ident => $body:expr) => {
        match ($x, $y) {
            (Buffer::F32($a), Buffer::F32($b)) => Buffer::F32($body),
            (Buffer::F16($a), Buffer::F16($b)) => Buffer::F16($body),
            (Buffer::BF16($a), Buffer::BF16($b)) => Buffer::BF16($body),
            (Buffer::F64($a), Buffer::F64($b)) => Buffer::F64($body),
            (Buffer::I8($a), Buffer::I8($b)) => Buffer::I8($body),
            (Buffer::I16($a), Buffer::I16($b)) => Buffer::I16($body),
            (Buffer::I32($a), Buffer::I32($b)) => Buffer::I32($body),
            (Buffer::I64($a), Buffer::I64($b)) => Buffer::I64($body),
            (Buffer::U8($a), Buffer::U8($b)) => Buffer::U8($body),
            (Buffer::U16($a), Buffer::U16($b)) => Buffer::U16($body),
            (Buffer::U32($a), Buffer::U32($b)) => Buffer::U32($body),
            (Buffer::U64($a), Buffer::U64($b)) => Buffer::U64($body),
            (Buffer::Bool($a), Buffer::Bool($b)) => Buffer::Bool($body),
            (a, b) => {
                return Err(format!(
                    "element types differ: {} and {}",
                    a.dtype(),
                    b.dtype()
                ));
            }
        }
    };
}
pub(crate) use zip_buffers;

/// The host copy of a value.
pub(crate) fn host(v: &Value) -> Result<TensorData, String> {
    v.host()
}

/// A value from a host shape and buffer (the element count must match the shape).
pub(crate) fn value(shape: Vec<usize>, data: Buffer) -> Result<Value, String> {
    Value::upload(&TensorData::new(shape, data).map_err(|e| e.to_string())?)
}

/// An int64 value from host data.
pub(crate) fn i64_value(shape: Vec<usize>, data: Vec<i64>) -> Result<Value, String> {
    value(shape, Buffer::I64(data))
}

/// A buffer of `n` zeros (false for booleans) of element type `dtype`.
pub(crate) fn zeros(dtype: DType, n: usize) -> Result<Buffer, String> {
    Ok(match dtype {
        DType::F32 => Buffer::F32(vec![0.0; n]),
        DType::F16 => Buffer::F16(vec![f16::ZERO; n]),
        DType::BF16 => Buffer::BF16(vec![bf16::ZERO; n]),
        DType::F64 => Buffer::F64(vec![0.0; n]),
        DType::I8 => Buffer::I8(vec![0; n]),
        DType::I16 => Buffer::I16(vec![0; n]),
        DType::I32 => Buffer::I32(vec![0; n]),
        DType::I64 => Buffer::I64(vec![0; n]),
        DType::U8 => Buffer::U8(vec![0; n]),
        DType::U16 => Buffer::U16(vec![0; n]),
        DType::U32 => Buffer::U32(vec![0; n]),
        DType::U64 => Buffer::U64(vec![0; n]),
        DType::Bool => Buffer::Bool(vec![false; n]),
        other => return Err(format!("{other} tensors are not supported")),
    })
}

/// A float buffer of element type `dtype` from `f64` values.
pub(crate) fn float_buffer(dtype: DType, v: Vec<f64>) -> Result<Buffer, String> {
    Ok(match dtype {
        DType::F32 => Buffer::F32(v.into_iter().map(|x| x as f32).collect()),
        DType::F16 => Buffer::F16(v.into_iter().map(f16::from_f64).collect()),
        DType::BF16 => Buffer::BF16(v.into_iter().map(bf16::from_f64).collect()),
        DType::F64 => Buffer::F64(v),
        other => return Err(format!("expected a float tensor, found {other}")),
    })
}

/// Row-major strides of `shape`.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Wraps a possibly negative index into `0..dim`, or explains why it is out of range.
pub(crate) fn wrap(i: i64, dim: usize, what: &str) -> Result<usize, String> {
    let n = dim as i64;
    let j = if i < 0 { i + n } else { i };
    if (0..n).contains(&j) {
        Ok(j as usize)
    } else {
        Err(format!(
            "{what} value {i} is out of range for a dim of size {dim}"
        ))
    }
}

/// Integer tensor values on the host, rejecting non-integer tensors.
pub(crate) fn int_values(v: &Value, what: &str) -> Result<Vec<i64>, String> {
    if !matches!(v, Value::Int(_)) {
        return Err(format!(
            "{what} must be an integer tensor, found {}",
            v.dtype()
        ));
    }
    v.host_i64()
}

/// A scalar (or one-element) integer input.
pub(crate) fn int_scalar(v: &Value, what: &str) -> Result<i64, String> {
    match int_values(v, what)?.as_slice() {
        [x] => Ok(*x),
        other => Err(format!(
            "{what} must hold one value, found {} values",
            other.len()
        )),
    }
}

/// `(outer, dim, inner)` sizes of `shape` around axis `a`.
pub(crate) fn split_at_axis(shape: &[usize], a: usize) -> (usize, usize, usize) {
    let outer = shape[..a].iter().product();
    let inner = shape[a + 1..].iter().product();
    (outer, shape[a], inner)
}

/// One box of a tensor copied into another: `extent` elements per dim, read from `src_start`
/// in a `src_shape` tensor and written from `dst_start` in a `dst_shape` tensor.
pub(crate) struct BoxCopy<'a> {
    /// Source tensor dims.
    pub src_shape: &'a [usize],
    /// First source coordinate of the box.
    pub src_start: &'a [usize],
    /// Destination tensor dims.
    pub dst_shape: &'a [usize],
    /// First destination coordinate of the box.
    pub dst_start: &'a [usize],
    /// Box size per dim (must fit both tensors from their starts).
    pub extent: &'a [usize],
}

impl BoxCopy<'_> {
    /// Copies the box from `src` into `dst`, one contiguous row of the last dim at a time.
    pub(crate) fn run<T: Copy>(&self, src: &[T], dst: &mut [T]) {
        let r = self.extent.len();
        if self.extent.contains(&0) {
            return;
        }
        if r == 0 {
            dst[0] = src[0];
            return;
        }
        let (ss, ds) = (strides(self.src_shape), strides(self.dst_shape));
        let row = self.extent[r - 1];
        let rows: usize = self.extent[..r - 1].iter().product();
        let mut coord = vec![0usize; r - 1];
        for _ in 0..rows {
            let mut so = self.src_start[r - 1];
            let mut dof = self.dst_start[r - 1];
            for i in 0..r - 1 {
                so += (self.src_start[i] + coord[i]) * ss[i];
                dof += (self.dst_start[i] + coord[i]) * ds[i];
            }
            dst[dof..dof + row].copy_from_slice(&src[so..so + row]);
            for i in (0..r - 1).rev() {
                coord[i] += 1;
                if coord[i] < self.extent[i] {
                    break;
                }
                coord[i] = 0;
            }
        }
    }
}

/// Resolves axis `a` of a tensor of `shape`, rejecting scalars (which have no axis).
pub(crate) fn axis_of(a: i64, shape: &[usize]) -> Result<usize, String> {
    if shape.is_empty() {
        return Err(format!("axis {a} given for a scalar input"));
    }
    crate::ops::util::axis(a, shape.len())
}
