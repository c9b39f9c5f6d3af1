//! `TopK` and `Unique`: host loops over the lanes of one axis, for every element type.

use std::cmp::Ordering;

use burnish_model::Buffer;

use super::host::{Elem, axis_of, host, i64_value, int_scalar, map_buffer, split_at_axis, value};
use crate::ops::{BuildCtx, Op, op};

fn top_k_typed<T: Elem>(
    x: &[T],
    (outer, n, inner): (usize, usize, usize),
    k: usize,
    largest: bool,
    picked: &mut [i64],
) -> Vec<T> {
    let mut out = vec![T::ZERO; outer * k * inner];
    let mut lane = Vec::with_capacity(n);
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for o in 0..outer {
        for i in 0..inner {
            lane.clear();
            lane.extend((0..n).map(|j| x[(o * n + j) * inner + i]));
            let cmp = |a: &usize, b: &usize| {
                let (va, vb) = (&lane[*a], &lane[*b]);
                let c = if largest { vb.order(va) } else { va.order(vb) };
                c.then(a.cmp(b))
            };
            order.clear();
            if k == 0 {
                continue;
            }
            if k * 16 <= n {
                let better = |a: usize, b: usize| cmp(&a, &b) == Ordering::Less;
                for j in 0..n {
                    if order.len() == k {
                        if !better(j, order[k - 1]) {
                            continue;
                        }
                        order.pop();
                    }
                    let at = order.partition_point(|&e| !better(j, e));
                    order.insert(at, j);
                }
            } else {
                order.extend(0..n);
                if k < n {
                    order.select_nth_unstable_by(k - 1, cmp);
                    order.truncate(k);
                }
                order.sort_unstable_by(cmp);
            }
            for (r, &j) in order.iter().enumerate() {
                let dst = (o * k + r) * inner + i;
                out[dst] = lane[j];
                picked[dst] = j as i64;
            }
        }
    }
    out
}

/// `TopK(X, K)` with `axis`, `largest` and `sorted` (opset 1 reads `k` from an attribute):
/// values and int64 indices, always sorted, ties broken by the lower index.
pub fn top_k(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", -1)?;
    let largest = ctx.int("largest", 1)? != 0;
    let attr_k = if ctx.opset < 10 {
        Some(ctx.int("k", -1)?)
    } else {
        None
    };
    op(move |mut ins| {
        let x = ins.take(0)?;
        let k = match attr_k {
            Some(k) => k,
            None => int_scalar(&ins.take(1)?, "K")?,
        };
        let mut shape = x.shape();
        let ax = axis_of(a, &shape)?;
        let dims = split_at_axis(&shape, ax);
        if k < 0 || k as usize > dims.1 {
            return Err(format!(
                "K {k} is out of range for axis {ax} of size {}",
                dims.1
            ));
        }
        let k = k as usize;
        shape[ax] = k;
        let h = host(&x)?;
        let mut picked = vec![0i64; dims.0 * k * dims.2];
        let vals: Buffer = map_buffer!(&h.data, v => top_k_typed(v, dims, k, largest, &mut picked));
        Ok(vec![value(shape.clone(), vals)?, i64_value(shape, picked)?])
    })
}

/// What `Unique` reports besides the unique values.
#[derive(Default)]
struct UniqueMeta {
    first: Vec<i64>,
    inverse: Vec<i64>,
    counts: Vec<i64>,
}

fn unique_typed<T: Elem>(
    x: &[T],
    (outer, n, inner): (usize, usize, usize),
    sorted: bool,
    meta: &mut UniqueMeta,
) -> Vec<T> {
    let cmp = |a: &usize, b: &usize| {
        for o in 0..outer {
            for i in 0..inner {
                let c = x[(o * n + a) * inner + i].order(&x[(o * n + b) * inner + i]);
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
        Ordering::Equal
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(cmp);
    let mut groups: Vec<(usize, i64)> = Vec::new();
    let mut inverse = vec![0usize; n];
    for (p, &j) in order.iter().enumerate() {
        if p == 0 || cmp(&order[p - 1], &j) != Ordering::Equal {
            groups.push((j, 0));
        }
        let g = groups.len() - 1;
        groups[g].1 += 1;
        inverse[j] = g;
    }
    let mut rank: Vec<usize> = (0..groups.len()).collect();
    if !sorted {
        let mut by_first: Vec<usize> = (0..groups.len()).collect();
        by_first.sort_by_key(|&g| groups[g].0);
        for (r, &g) in by_first.iter().enumerate() {
            rank[g] = r;
        }
        groups = by_first.iter().map(|&g| groups[g]).collect();
    }
    meta.first = groups.iter().map(|g| g.0 as i64).collect();
    meta.counts = groups.iter().map(|g| g.1).collect();
    meta.inverse = inverse.iter().map(|&g| rank[g] as i64).collect();
    let mut out = Vec::with_capacity(outer * groups.len() * inner);
    for o in 0..outer {
        for g in &groups {
            out.extend_from_slice(&x[(o * n + g.0) * inner..(o * n + g.0 + 1) * inner]);
        }
    }
    out
}

/// `Unique(X)` with optional `axis` and `sorted` (default 1): unique values (or slices), the
/// index of each one's first occurrence, each input's position among them, and counts.
pub fn unique(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let sorted = ctx.int("sorted", 1)? != 0;
    let a = ctx.ints("axis")?.and_then(|v| v.first().copied());
    op(move |mut ins| {
        let x = ins.take(0)?;
        let shape = x.shape();
        let (dims, ax) = match a {
            Some(a) => {
                let ax = axis_of(a, &shape)?;
                (split_at_axis(&shape, ax), Some(ax))
            }
            None => ((1, x.numel(), 1), None),
        };
        let h = host(&x)?;
        let mut meta = UniqueMeta::default();
        let y: Buffer = map_buffer!(&h.data, v => unique_typed(v, dims, sorted, &mut meta));
        let count = meta.first.len();
        let yshape = match ax {
            Some(ax) => {
                let mut s = shape.clone();
                s[ax] = count;
                s
            }
            None => vec![count],
        };
        let n = meta.inverse.len();
        Ok(vec![
            value(yshape, y)?,
            i64_value(vec![count], meta.first)?,
            i64_value(vec![n], meta.inverse)?,
            i64_value(vec![count], meta.counts)?,
        ])
    })
}
