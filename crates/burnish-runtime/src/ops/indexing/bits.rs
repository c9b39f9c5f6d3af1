//! Bit ops: `BitShift`, `BitwiseAnd`/`Or`/`Xor`/`Not` (numpy broadcasting) and `BitCast`.

use std::ops::{BitAnd, BitOr, BitXor, Not};

use burnish_model::{Buffer, DType};

use super::host::{host, value};
use crate::ops::util::{broadcast_shape, expand_to};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// Applies `$f` (a generic fn over two slices) to two same-typed integer buffers.
macro_rules! int_zip {
    ($x:expr, $y:expr, $f:ident) => {
        match ($x, $y) {
            (Buffer::I8(a), Buffer::I8(b)) => Buffer::I8($f(a, b)),
            (Buffer::I16(a), Buffer::I16(b)) => Buffer::I16($f(a, b)),
            (Buffer::I32(a), Buffer::I32(b)) => Buffer::I32($f(a, b)),
            (Buffer::I64(a), Buffer::I64(b)) => Buffer::I64($f(a, b)),
            (Buffer::U8(a), Buffer::U8(b)) => Buffer::U8($f(a, b)),
            (Buffer::U16(a), Buffer::U16(b)) => Buffer::U16($f(a, b)),
            (Buffer::U32(a), Buffer::U32(b)) => Buffer::U32($f(a, b)),
            (Buffer::U64(a), Buffer::U64(b)) => Buffer::U64($f(a, b)),
            (Buffer::Bool(a), Buffer::Bool(b)) => Buffer::Bool($f(a, b)),
            (a, b) => {
                return Err(format!(
                    "expected two integer tensors of one type, found {} and {}",
                    a.dtype(),
                    b.dtype()
                ));
            }
        }
    };
}

/// Both inputs broadcast to one shape and read to the host.
fn broadcast_pair(a: Value, b: Value) -> Result<(Vec<usize>, Buffer, Buffer), String> {
    let shape = broadcast_shape(&a.shape(), &b.shape())?;
    let a = host(&expand_to(a, &shape)?)?;
    let b = host(&expand_to(b, &shape)?)?;
    Ok((shape, a.data, b.data))
}

fn bitwise(f: fn(Buffer, Buffer) -> Result<Buffer, String>) -> Result<Box<dyn Op>, String> {
    op(move |mut ins| {
        let (shape, a, b) = broadcast_pair(ins.take(0)?, ins.take(1)?)?;
        Ok(vec![value(shape, f(a, b)?)?])
    })
}

fn and_buf(a: Buffer, b: Buffer) -> Result<Buffer, String> {
    fn f<T: Copy + BitAnd<Output = T>>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().zip(b).map(|(&x, &y)| x & y).collect()
    }
    Ok(int_zip!(&a, &b, f))
}

fn or_buf(a: Buffer, b: Buffer) -> Result<Buffer, String> {
    fn f<T: Copy + BitOr<Output = T>>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().zip(b).map(|(&x, &y)| x | y).collect()
    }
    Ok(int_zip!(&a, &b, f))
}

fn xor_buf(a: Buffer, b: Buffer) -> Result<Buffer, String> {
    fn f<T: Copy + BitXor<Output = T>>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().zip(b).map(|(&x, &y)| x ^ y).collect()
    }
    Ok(int_zip!(&a, &b, f))
}

/// `BitwiseAnd(A, B)`.
pub fn bitwise_and(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    bitwise(and_buf)
}

/// `BitwiseOr(A, B)`.
pub fn bitwise_or(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    bitwise(or_buf)
}

/// `BitwiseXor(A, B)`.
pub fn bitwise_xor(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    bitwise(xor_buf)
}

/// `BitwiseNot(X)`.
pub fn bitwise_not(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    fn f<T: Copy + Not<Output = T>>(a: &[T], _: &[T]) -> Vec<T> {
        a.iter().map(|&x| !x).collect()
    }
    op(|mut ins| {
        let x = host(&ins.take(0)?)?;
        let out = int_zip!(&x.data, &x.data, f);
        Ok(vec![value(x.shape, out)?])
    })
}

/// Shifts that give zero once the amount reaches the bit width.
trait Shift: Copy {
    fn shl(self, n: Self) -> Self;
    fn shr(self, n: Self) -> Self;
}

macro_rules! shift {
    ($($t:ty),*) => {$(
        impl Shift for $t {
            fn shl(self, n: Self) -> Self {
                u32::try_from(n).ok().and_then(|s| self.checked_shl(s)).unwrap_or(0)
            }
            fn shr(self, n: Self) -> Self {
                u32::try_from(n).ok().and_then(|s| self.checked_shr(s)).unwrap_or(0)
            }
        }
    )*};
}
shift!(u8, u16, u32, u64);

/// `BitShift(X, Y)` with `direction` LEFT or RIGHT, on unsigned integers.
pub fn bit_shift(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let left = match ctx.string("direction", "")?.as_str() {
        "LEFT" => true,
        "RIGHT" => false,
        other => {
            return Err(format!(
                "BitShift direction must be LEFT or RIGHT, found `{other}`"
            ));
        }
    };
    fn run<T: Shift>(a: &[T], b: &[T], left: bool) -> Vec<T> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| if left { x.shl(y) } else { x.shr(y) })
            .collect()
    }
    op(move |mut ins| {
        let (shape, a, b) = broadcast_pair(ins.take(0)?, ins.take(1)?)?;
        let out = match (&a, &b) {
            (Buffer::U8(a), Buffer::U8(b)) => Buffer::U8(run(a, b, left)),
            (Buffer::U16(a), Buffer::U16(b)) => Buffer::U16(run(a, b, left)),
            (Buffer::U32(a), Buffer::U32(b)) => Buffer::U32(run(a, b, left)),
            (Buffer::U64(a), Buffer::U64(b)) => Buffer::U64(run(a, b, left)),
            (a, b) => {
                return Err(format!(
                    "BitShift takes two unsigned integer tensors of one type, found {} and {}",
                    a.dtype(),
                    b.dtype()
                ));
            }
        };
        Ok(vec![value(shape, out)?])
    })
}

/// `BitCast(input)` with `to` (opset 26): reinterprets the bytes as another type of the same
/// width.
pub fn bit_cast(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let code = ctx.int("to", 0)?;
    let to = i32::try_from(code)
        .ok()
        .and_then(DType::from_onnx)
        .filter(|d| *d != DType::String)
        .ok_or_else(|| format!("unsupported BitCast target type code {code}"))?;
    op(move |mut ins| {
        let x = host(&ins.take(0)?)?;
        let from = x.dtype();
        if from.size() != to.size() {
            return Err(format!(
                "BitCast from {from} to {to} changes the element width"
            ));
        }
        let bytes = x
            .data
            .to_le_bytes()
            .ok_or_else(|| format!("cannot BitCast {from} tensors"))?;
        let data = Buffer::from_le_bytes(to, &bytes).map_err(|e| e.to_string())?;
        Ok(vec![value(x.shape, data)?])
    })
}
