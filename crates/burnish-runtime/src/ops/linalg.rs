//! `MatMul` and `Gemm`; a constant 2-D float32 weight takes the packed path ([`packed`]).

mod packed;
mod shared;

pub(crate) use packed::PackedMatMul;

use burn_backend::ops::{FloatTensorOps, IntTensorOps};
use burn_backend::{Scalar, Shape};
use burn_flex::FlexTensor;

use super::binary::arith;
use super::util::{broadcast_shape, dims, float};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// numpy-style matmul of two float tensors: 1-D operands are promoted and the added dimension
/// removed afterwards; batch dimensions broadcast. A 2-D right operand (a weight) is applied to
/// all rows of the left operand in one GEMM.
pub fn matmul_prims(a: FlexTensor, b: FlexTensor) -> Result<FlexTensor, String> {
    let (sa, sb) = (dims(&a), dims(&b));
    if sa.is_empty() || sb.is_empty() {
        return Err("MatMul operands must have rank >= 1".into());
    }
    if a.dtype() != b.dtype() {
        return Err(format!("MatMul of {:?} and {:?}", a.dtype(), b.dtype()));
    }
    let a_vec = sa.len() == 1;
    let b_vec = sb.len() == 1;
    let a = if a_vec {
        B::float_reshape(a, Shape::from(vec![1, sa[0]]))
    } else {
        a
    };
    let b = if b_vec {
        B::float_reshape(b, Shape::from(vec![sb[0], 1]))
    } else {
        b
    };
    let (sa, sb) = (dims(&a), dims(&b));
    let (ra, rb) = (sa.len(), sb.len());
    let k = sa[ra - 1];
    if sb[rb - 2] != k {
        return Err(format!(
            "MatMul inner dimensions differ: {:?} x {:?}",
            sa, sb
        ));
    }
    let n = sb[rb - 1];
    let mut out_shape = broadcast_shape(&sa[..ra - 2], &sb[..rb - 2])?;
    out_shape.extend([sa[ra - 2], n]);
    super::util::check_numel(&out_shape)?;
    let out = if rb == 2 && ra > 2 {
        let rows: usize = sa[..ra - 1].iter().product();
        let flat = B::float_reshape(a, Shape::from(vec![rows, k]));
        let y = B::float_matmul(flat, b);
        let mut shape = sa[..ra - 1].to_vec();
        shape.push(n);
        B::float_reshape(y, Shape::from(shape))
    } else {
        let batch = broadcast_shape(&sa[..ra - 2], &sb[..rb - 2])?;
        let lift = |t: FlexTensor, s: &[usize]| {
            let mut full = vec![1; batch.len() + 2 - s.len()];
            full.extend_from_slice(s);
            B::float_reshape(t, Shape::from(full))
        };
        B::float_matmul(lift(a, &sa), lift(b, &sb))
    };
    let mut shape = dims(&out);
    if b_vec {
        shape.pop();
    }
    if a_vec {
        shape.remove(shape.len() - if b_vec { 1 } else { 2 });
    }
    Ok(B::float_reshape(out, Shape::from(shape)))
}

/// `MatMul`.
pub fn matmul(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    if let Some(Some(w)) = ctx.consts.get(1)
        && let Some(p) = packed::PackedMatMul::build(w, false, 1.0, None, vec![1], None)
    {
        return Ok(Box::new(p));
    }
    op(|mut ins| {
        let a = float(ins.take(0)?)?;
        let b = float(ins.take(1)?)?;
        Ok(vec![Value::Float(matmul_prims(a, b)?)])
    })
}

/// `Gemm(A, B, C)`: `alpha * A' B' + beta * C` with optional transposes.
pub fn gemm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    let beta = ctx.float("beta", 1.0)?;
    let trans_a = ctx.int("transA", 0)? != 0;
    let trans_b = ctx.int("transB", 0)? != 0;
    if !trans_a && let Some(Some(w)) = ctx.consts.get(1) {
        let n = if trans_b {
            w.shape.first()
        } else {
            w.shape.get(1)
        };
        let c = ctx.consts.get(2).cloned().flatten();
        let has_c = ctx.node.input(2).is_some();
        let bias = c.as_ref().and_then(|c| {
            let v = c.as_f32()?;
            (Some(&v.len()) == n
                && c.shape.len() <= 2
                && c.shape.first() != Some(&0)
                && (c.shape.len() < 2 || c.shape[0] == 1))
                .then(|| v.iter().map(|x| x * beta).collect::<Vec<f32>>())
        });
        let (captured, runtime_c) = match (&bias, has_c) {
            (Some(_), _) => (vec![1, 2], None),
            (None, true) => (vec![1], Some(beta)),
            (None, false) => (vec![1], None),
        };
        if let Some(p) = packed::PackedMatMul::build(w, trans_b, alpha, bias, captured, runtime_c) {
            return Ok(Box::new(p));
        }
    }
    op(move |mut ins| {
        let a = float(ins.take(0)?)?;
        let b = float(ins.take(1)?)?;
        if dims(&a).len() != 2 || dims(&b).len() != 2 {
            return Err(format!(
                "Gemm expects 2-D A and B, found {:?} and {:?}",
                dims(&a),
                dims(&b)
            ));
        }
        let a = if trans_a { B::float_transpose(a) } else { a };
        let b = if trans_b { B::float_transpose(b) } else { b };
        let mut y = matmul_prims(a, b)?;
        if alpha != 1.0 {
            y = B::float_mul_scalar(y, Scalar::from(alpha));
        }
        let mut y = Value::Float(y);
        if let Some(c) = ins.opt(2) {
            let c = match (beta, c) {
                (1.0, c) => c,
                (b, Value::Float(c)) => Value::Float(B::float_mul_scalar(c, Scalar::from(b))),
                _ => return Err("Gemm bias must be float".into()),
            };
            y = arith(y, c, B::float_add, B::int_add)?;
        }
        Ok(vec![y])
    })
}
