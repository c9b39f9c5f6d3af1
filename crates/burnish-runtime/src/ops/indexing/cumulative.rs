//! `CumSum` and `CumProd` with `exclusive` and `reverse`: one pass per lane of the axis.

use burnish_model::Buffer;

use super::host::{Elem, host, int_scalar, map_buffer, split_at_axis, value};
use crate::ops::util::axis;
use crate::ops::{BuildCtx, Op, op};

/// Scan settings shared by both ops.
#[derive(Clone, Copy)]
struct Scan {
    product: bool,
    exclusive: bool,
    reverse: bool,
}

fn scan_typed<T: Elem>(x: &[T], (outer, n, inner): (usize, usize, usize), s: Scan) -> Vec<T> {
    let (id, f): (T, fn(T, T) -> T) = if s.product {
        (T::ONE, T::mul)
    } else {
        (T::ZERO, T::add)
    };
    let mut out = vec![id; x.len()];
    let mut acc = vec![id; inner];
    for o in 0..outer {
        acc.fill(id);
        for step in 0..n {
            let j = if s.reverse { n - 1 - step } else { step };
            let base = (o * n + j) * inner;
            let (src, dst) = (&x[base..base + inner], &mut out[base..base + inner]);
            for ((d, a), &v) in dst.iter_mut().zip(acc.iter_mut()).zip(src) {
                if s.exclusive {
                    *d = *a;
                    *a = f(*a, v);
                } else {
                    *a = f(*a, v);
                    *d = *a;
                }
            }
        }
    }
    out
}

fn scan_op(ctx: &BuildCtx, product: bool) -> Result<Box<dyn Op>, String> {
    let s = Scan {
        product,
        exclusive: ctx.int("exclusive", 0)? != 0,
        reverse: ctx.int("reverse", 0)? != 0,
    };
    op(move |mut ins| {
        let x = ins.take(0)?;
        let a = int_scalar(&ins.take(1)?, "axis")?;
        let shape = x.shape();
        let dims = if shape.is_empty() {
            (1, 1, 1)
        } else {
            split_at_axis(&shape, axis(a, shape.len())?)
        };
        let h = host(&x)?;
        if matches!(h.data, Buffer::Bool(_)) {
            return Err("cumulative ops do not take bool tensors".into());
        }
        let out: Buffer = map_buffer!(&h.data, v => scan_typed(v, dims, s));
        Ok(vec![value(shape, out)?])
    })
}

/// `CumSum(x, axis)` with `exclusive` and `reverse`.
pub fn cum_sum(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    scan_op(ctx, false)
}

/// `CumProd(x, axis)` (opset 26) with `exclusive` and `reverse`.
pub fn cum_prod(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    scan_op(ctx, true)
}
