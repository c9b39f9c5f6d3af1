//! Selections by index or mask: `GatherND`, `Compress`, `NonZero`, `OneHot`, `ReverseSequence`.
//! Row gathers run as one Burn `select`; the rest are host loops.

use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps};
use burnish_model::{Buffer, DType};

use super::host::{
    Elem, axis_of, host, i64_value, int_values, map_buffer, strides, value, wrap, zeros,
};
use crate::ops::generate::cast_value;
use crate::ops::util::{axis, check_numel};
use crate::ops::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// Picks entries `rows` along `dim` of `v` (already in range) and reshapes to `out_shape`.
/// (flex's `bool_select` yields u8 storage, cast back to bool here.)
pub(crate) fn select_rows(
    v: Value,
    dim: usize,
    rows: Vec<i64>,
    out_shape: &[usize],
) -> Result<Value, String> {
    if out_shape.iter().product::<usize>() == 0 || rows.is_empty() {
        return value(out_shape.to_vec(), zeros(v.dtype(), 0)?);
    }
    let Value::Int(it) = i64_value(vec![rows.len()], rows)? else {
        return Err("row indices are not an int tensor".into());
    };
    let picked = match v {
        Value::Float(t) => Value::Float(B::float_select(t, dim, it)),
        Value::Int(t) => Value::Int(B::int_select(t, dim, it)),
        Value::Bool(t) => cast_value(Value::Int(B::bool_select(t, dim, it)), DType::Bool)?,
        other => return Err(crate::ops::util::unsupported_value("this op", &other)),
    };
    Ok(picked.reshape(out_shape))
}

/// `GatherND(data, indices)` with `batch_dims` (opset 12+): each index tuple picks a slice.
pub fn gather_nd(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let b = ctx.int("batch_dims", 0)?;
    let b = usize::try_from(b).map_err(|_| format!("batch_dims {b} must not be negative"))?;
    op(move |mut ins| {
        let data = ins.take(0)?;
        let idx = ins.take(1)?;
        let (ds, is) = (data.shape(), idx.shape());
        let (r, q) = (ds.len(), is.len());
        if q < 1 || r < 1 || b >= q.min(r) {
            return Err(format!(
                "batch_dims {b} needs data rank ({r}) and indices rank ({q}) above it"
            ));
        }
        let k = is[q - 1];
        if b + k > r {
            return Err(format!(
                "indices last dim {k} plus batch_dims {b} exceeds data rank {r}"
            ));
        }
        if is[..b] != ds[..b] {
            return Err(format!(
                "batch dims of indices {:?} and data {:?} differ",
                &is[..b],
                &ds[..b]
            ));
        }
        let batch: usize = ds[..b].iter().product();
        let cell: usize = ds[b..b + k].iter().product();
        let slice: usize = ds[b + k..].iter().product();
        let per_batch: usize = is[b..q - 1].iter().product();
        let cs = strides(&ds[b..b + k]);
        let flat = int_values(&idx, "indices")?;
        let mut rows = Vec::with_capacity(batch * per_batch);
        for bi in 0..batch {
            for p in 0..per_batch {
                let base = (bi * per_batch + p) * k;
                let mut off = bi * cell;
                for j in 0..k {
                    off += wrap(flat[base + j], ds[b + j], "indices")? * cs[j];
                }
                rows.push(off as i64);
            }
        }
        let mut out = is[..q - 1].to_vec();
        out.extend_from_slice(&ds[b + k..]);
        let src = data.reshape(&[batch * cell, slice]);
        Ok(vec![select_rows(src, 0, rows, &out)?])
    })
}

/// `Compress(input, condition)` with optional `axis` (flattens the input without it).
pub fn compress(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.ints("axis")?.and_then(|v| v.first().copied());
    op(move |mut ins| {
        let x = ins.take(0)?;
        let cond = ins.take(1)?;
        if cond.rank() != 1 {
            return Err(format!(
                "condition must be 1-D, found shape {:?}",
                cond.shape()
            ));
        }
        let (x, d) = match a {
            Some(a) => {
                let d = axis_of(a, &x.shape())?;
                (x, d)
            }
            None => {
                let n = x.numel();
                (x.reshape(&[n]), 0)
            }
        };
        let mut shape = x.shape();
        let picked: Vec<i64> = cond
            .host_f64()?
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0.0)
            .map(|(i, _)| i as i64)
            .collect();
        if let Some(&last) = picked.last()
            && last as usize >= shape[d]
        {
            return Err(format!(
                "condition selects entry {last} beyond axis size {}",
                shape[d]
            ));
        }
        shape[d] = picked.len();
        Ok(vec![select_rows(x, d, picked, &shape)?])
    })
}

/// `NonZero(x)`: the coordinates of the non-zero elements, shape `[rank, count]`.
pub fn non_zero(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let x = ins.take(0)?;
        let shape = x.shape();
        let rank = shape.len().max(1);
        let st = strides(&shape);
        let hits: Vec<usize> = x
            .host_f64()?
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, _)| i)
            .collect();
        let n = hits.len();
        let mut out = vec![0i64; rank * n];
        for (c, &flat) in hits.iter().enumerate() {
            for d in 0..shape.len() {
                out[d * n + c] = ((flat / st[d]) % shape[d]) as i64;
            }
        }
        Ok(vec![i64_value(vec![rank, n], out)?])
    })
}

fn one_hot_typed<T: Elem>(
    off: T,
    on: T,
    hot: &[Option<usize>],
    depth: usize,
    inner: usize,
) -> Vec<T> {
    let mut out = vec![off; hot.len() * depth];
    for (p, h) in hot.iter().enumerate() {
        if let Some(d) = h {
            let (o, i) = (p / inner, p % inner);
            out[(o * depth + d) * inner + i] = on;
        }
    }
    out
}

/// `OneHot(indices, depth, values)` with `axis` (default -1); negative indices count from
/// `depth` (opset 11+) and out-of-range ones give an all-off row.
pub fn one_hot(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", -1)?;
    let wrap_negative = ctx.opset >= 11;
    op(move |mut ins| {
        let idx = ins.take(0)?;
        let depth = ins.take(1)?.host_f64()?;
        let vals = host(&ins.take(2)?)?;
        let depth = match depth.as_slice() {
            [d] if *d >= 0.0 && d.is_finite() => *d as usize,
            other => {
                return Err(format!(
                    "depth must be one non-negative value, found {other:?}"
                ));
            }
        };
        if vals.len() != 2 {
            return Err(format!(
                "values must hold [off, on], found {} values",
                vals.len()
            ));
        }
        let ishape = idx.shape();
        let ax = axis(a, ishape.len() + 1)?;
        let mut shape = ishape.clone();
        shape.insert(ax, depth);
        check_numel(&shape)?;
        let inner: usize = ishape[ax..].iter().product();
        let d = depth as i64;
        let hot: Vec<Option<usize>> = idx
            .host_i64()?
            .into_iter()
            .map(|i| {
                let j = if i < 0 && wrap_negative { i + d } else { i };
                (0..d).contains(&j).then_some(j as usize)
            })
            .collect();
        let out: Buffer =
            map_buffer!(&vals.data, v => one_hot_typed(v[0], v[1], &hot, depth, inner.max(1)));
        Ok(vec![value(shape, out)?])
    })
}

fn reverse_typed<T: Elem>(x: &[T], moves: &[(usize, usize)], block: usize) -> Vec<T> {
    let mut out = x.to_vec();
    for &(dst, src) in moves {
        out[dst..dst + block].copy_from_slice(&x[src..src + block]);
    }
    out
}

/// `ReverseSequence(input, sequence_lens)` with `batch_axis` and `time_axis` (0 and 1).
pub fn reverse_sequence(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let ba = ctx.int("batch_axis", 1)?;
    let ta = ctx.int("time_axis", 0)?;
    if !matches!((ba, ta), (0, 1) | (1, 0)) {
        return Err(format!(
            "batch_axis {ba} and time_axis {ta} must be 0 and 1 in some order"
        ));
    }
    let (ba, ta) = (ba as usize, ta as usize);
    op(move |mut ins| {
        let x = ins.take(0)?;
        let lens = int_values(&ins.take(1)?, "sequence_lens")?;
        let shape = x.shape();
        if shape.len() < 2 {
            return Err(format!("input must have rank >= 2, found {shape:?}"));
        }
        let (batch, time) = (shape[ba], shape[ta]);
        if lens.len() != batch {
            return Err(format!(
                "sequence_lens has {} values for batch size {batch}",
                lens.len()
            ));
        }
        let st = strides(&shape);
        let block = st[1];
        let mut moves = Vec::new();
        for (bi, &len) in lens.iter().enumerate() {
            if !(0..=time as i64).contains(&len) {
                return Err(format!(
                    "sequence_lens value {len} is out of range for time size {time}"
                ));
            }
            let len = len as usize;
            for t in 0..len {
                let at = |tt: usize| bi * st[ba] + tt * st[ta];
                moves.push((at(t), at(len - 1 - t)));
            }
        }
        let h = host(&x)?;
        let out: Buffer = map_buffer!(&h.data, v => reverse_typed(v, &moves, block));
        Ok(vec![value(shape, out)?])
    })
}
