//! Small elementwise and linear-algebra ops: `Det`, `Shrink`, `Swish`.

use burn_backend::Scalar;
use burn_backend::ops::{ActivationOps, FloatTensorOps};
use burnish_model::Buffer;

use super::host::{Elem, float_buffer, host, map_buffer, value};
use crate::ops::util::float;
use crate::ops::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// Determinant of one row-major `m x m` matrix by LU decomposition with partial pivoting.
fn det(mut a: Vec<f64>, m: usize) -> f64 {
    let mut d = 1.0;
    for c in 0..m {
        let p = (c..m)
            .max_by(|&i, &j| a[i * m + c].abs().total_cmp(&a[j * m + c].abs()))
            .unwrap_or(c);
        let pivot = a[p * m + c];
        if pivot == 0.0 {
            return 0.0;
        }
        if p != c {
            for k in 0..m {
                a.swap(p * m + k, c * m + k);
            }
            d = -d;
        }
        d *= pivot;
        for r in c + 1..m {
            let f = a[r * m + c] / pivot;
            if f != 0.0 {
                for k in c..m {
                    a[r * m + k] -= f * a[c * m + k];
                }
            }
        }
    }
    d
}

/// `Det(X)`: determinants of the square matrices in the last two dims of a float tensor.
pub fn det_op(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let x = ins.take(0)?;
        if !matches!(x, Value::Float(_)) {
            return Err(format!("Det expects a float tensor, found {}", x.dtype()));
        }
        let shape = x.shape();
        let r = shape.len();
        if r < 2 || shape[r - 1] != shape[r - 2] {
            return Err(format!("Det expects [..., M, M], found shape {shape:?}"));
        }
        let m = shape[r - 1];
        let dtype = x.dtype();
        let v = x.host_f64()?;
        let out: Vec<f64> = if m == 0 {
            vec![1.0; shape[..r - 2].iter().product()]
        } else {
            v.chunks(m * m).map(|c| det(c.to_vec(), m)).collect()
        };
        Ok(vec![value(
            shape[..r - 2].to_vec(),
            float_buffer(dtype, out)?,
        )?])
    })
}

fn shrink_typed<T: Elem>(x: &[T], lambd: f64, bias: f64) -> Vec<T> {
    x.iter()
        .map(|&v| {
            let f = v.to_f64();
            if f < -lambd {
                T::from_f64(f + bias)
            } else if f > lambd {
                T::from_f64(f - bias)
            } else {
                T::ZERO
            }
        })
        .collect()
}

/// `Shrink(x)` with `lambd` (default 0.5) and `bias` (default 0).
pub fn shrink(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let lambd = ctx.float("lambd", 0.5)? as f64;
    let bias = ctx.float("bias", 0.0)? as f64;
    op(move |mut ins| {
        let x = host(&ins.take(0)?)?;
        if matches!(x.data, Buffer::Bool(_)) {
            return Err("Shrink does not take bool tensors".into());
        }
        let out: Buffer = map_buffer!(&x.data, v => shrink_typed(v, lambd, bias));
        Ok(vec![value(x.shape, out)?])
    })
}

/// `Swish(x)` (opset 24) with `alpha` (default 1): `x * sigmoid(alpha * x)`.
pub fn swish(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    op(move |mut ins| {
        let x = float(ins.take(0)?)?;
        let scaled = if alpha == 1.0 {
            x.clone()
        } else {
            B::float_mul_scalar(x.clone(), Scalar::from(alpha))
        };
        Ok(vec![Value::Float(B::float_mul(x, B::sigmoid(scaled)))])
    })
}
