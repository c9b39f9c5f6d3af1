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

fn scan_typed<T: Elem>(x: &[T], dims: (usize, usize, usize), s: Scan) -> Vec<T> {
    if s.product {
        scan_with(x, dims, s, T::ONE, T::mul)
    } else {
        scan_with(x, dims, s, T::ZERO, T::add)
    }
}

fn scan_with<T: Elem, F: Fn(T, T) -> T>(
    x: &[T],
    (outer, n, inner): (usize, usize, usize),
    s: Scan,
    id: T,
    f: F,
) -> Vec<T> {
    let mut out = vec![id; x.len()];
    let lane = |step: usize| if s.reverse { n - 1 - step } else { step };
    if inner == 1 {
        for (src, dst) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            let mut acc = id;
            for step in 0..n {
                let j = lane(step);
                if s.exclusive {
                    dst[j] = acc;
                    acc = f(acc, src[j]);
                } else {
                    acc = f(acc, src[j]);
                    dst[j] = acc;
                }
            }
        }
        return out;
    }
    let mut acc = vec![id; inner];
    for o in 0..outer {
        acc.fill(id);
        for step in 0..n {
            let base = (o * n + lane(step)) * inner;
            let (src, dst) = (&x[base..base + inner], &mut out[base..base + inner]);
            if s.exclusive {
                for ((d, a), &v) in dst.iter_mut().zip(acc.iter_mut()).zip(src) {
                    *d = *a;
                    *a = f(*a, v);
                }
            } else {
                for ((d, a), &v) in dst.iter_mut().zip(acc.iter_mut()).zip(src) {
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
