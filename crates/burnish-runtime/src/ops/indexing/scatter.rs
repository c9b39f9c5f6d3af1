//! `ScatterElements`, `Scatter` (opset 9-10), `ScatterND` and `TensorScatter`: host loops over
//! a copy of the data, every index wrapped and bounds-checked before anything is written.

use burnish_model::Buffer;

use super::host::{Elem, axis_of, host, int_values, strides, value, wrap, zip_buffers};
use crate::ops::{BuildCtx, Op, op};

/// How a scatter combines an update with the value already there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Reduction {
    /// The update replaces the value.
    None,
    /// Sum.
    Add,
    /// Product.
    Mul,
    /// Larger of the two.
    Max,
    /// Smaller of the two.
    Min,
}

impl Reduction {
    /// The `reduction` attribute of `ctx` (default `none`).
    pub(crate) fn parse(ctx: &BuildCtx) -> Result<Self, String> {
        Ok(match ctx.string("reduction", "none")?.as_str() {
            "none" => Reduction::None,
            "add" => Reduction::Add,
            "mul" => Reduction::Mul,
            "max" => Reduction::Max,
            "min" => Reduction::Min,
            other => return Err(format!("unknown reduction `{other}`")),
        })
    }

    fn apply<T: Elem>(self, old: T, new: T) -> T {
        match self {
            Reduction::None => new,
            Reduction::Add => old.add(new),
            Reduction::Mul => old.mul(new),
            Reduction::Max => old.max_of(new),
            Reduction::Min => old.min_of(new),
        }
    }
}

fn scatter_elements_typed<T: Elem>(
    data: &[T],
    updates: &[T],
    places: &[usize],
    red: Reduction,
) -> Vec<T> {
    let mut out = data.to_vec();
    for (&p, &u) in places.iter().zip(updates) {
        out[p] = red.apply(out[p], u);
    }
    out
}

/// Flat data offsets that each element of `indices` (shape `ishape`) writes to.
fn element_places(
    dshape: &[usize],
    ishape: &[usize],
    indices: &[i64],
    ax: usize,
) -> Result<Vec<usize>, String> {
    if ishape.len() != dshape.len() {
        return Err(format!(
            "indices rank {} differs from data rank {}",
            ishape.len(),
            dshape.len()
        ));
    }
    for (d, (&i, &s)) in ishape.iter().zip(dshape).enumerate() {
        if d != ax && i > s {
            return Err(format!(
                "indices dim {d} has size {i}, larger than data's {s}"
            ));
        }
    }
    let (ds, is) = (strides(dshape), strides(ishape));
    indices
        .iter()
        .enumerate()
        .map(|(p, &i)| {
            let mut off = 0;
            for d in 0..ishape.len() {
                let c = (p / is[d]) % ishape[d];
                let c = if d == ax {
                    wrap(i, dshape[ax], "indices")?
                } else {
                    c
                };
                off += c * ds[d];
            }
            Ok(off)
        })
        .collect()
}

fn elements_op(a: i64, red: Reduction) -> Result<Box<dyn Op>, String> {
    op(move |mut ins| {
        let data = ins.take(0)?;
        let idx = ins.take(1)?;
        let upd = ins.take(2)?;
        let dshape = data.shape();
        let ax = axis_of(a, &dshape)?;
        let ishape = idx.shape();
        if upd.shape() != ishape {
            return Err(format!(
                "updates shape {:?} differs from indices shape {ishape:?}",
                upd.shape()
            ));
        }
        let places = element_places(&dshape, &ishape, &int_values(&idx, "indices")?, ax)?;
        let (d, u) = (host(&data)?, host(&upd)?);
        let out =
            zip_buffers!(&d.data, &u.data, x, y => scatter_elements_typed(x, y, &places, red));
        Ok(vec![value(dshape, out)?])
    })
}

/// `ScatterElements(data, indices, updates)` with `axis` and `reduction`.
pub fn scatter_elements(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    elements_op(ctx.int("axis", 0)?, Reduction::parse(ctx)?)
}

/// `Scatter(data, indices, updates)`: the opset 9-10 name of `ScatterElements` without reduction.
pub fn scatter(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    elements_op(ctx.int("axis", 0)?, Reduction::None)
}

fn scatter_nd_typed<T: Elem>(
    data: &[T],
    updates: &[T],
    offsets: &[usize],
    slice: usize,
    red: Reduction,
) -> Vec<T> {
    let mut out = data.to_vec();
    for (r, &off) in offsets.iter().enumerate() {
        let dst = &mut out[off..off + slice];
        for (o, &u) in dst.iter_mut().zip(&updates[r * slice..(r + 1) * slice]) {
            *o = red.apply(*o, u);
        }
    }
    out
}

/// `ScatterND(data, indices, updates)` with `reduction`.
pub fn scatter_nd(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let red = Reduction::parse(ctx)?;
    op(move |mut ins| {
        let data = ins.take(0)?;
        let idx = ins.take(1)?;
        let upd = ins.take(2)?;
        let dshape = data.shape();
        let ishape = idx.shape();
        let k = *ishape
            .last()
            .ok_or("ScatterND indices must have rank >= 1")?;
        if k > dshape.len() {
            return Err(format!(
                "indices last dim {k} exceeds data rank {}",
                dshape.len()
            ));
        }
        let mut want = ishape[..ishape.len() - 1].to_vec();
        want.extend_from_slice(&dshape[k..]);
        if upd.shape() != want {
            return Err(format!(
                "updates shape {:?} should be {want:?}",
                upd.shape()
            ));
        }
        let ds = strides(&dshape);
        let slice: usize = dshape[k..].iter().product();
        let flat = int_values(&idx, "indices")?;
        let offsets = if k == 0 {
            vec![0; ishape[..ishape.len() - 1].iter().product()]
        } else {
            flat.chunks(k)
                .map(|row| {
                    row.iter().enumerate().try_fold(0usize, |acc, (j, &i)| {
                        Ok::<_, String>(acc + wrap(i, dshape[j], "indices")? * ds[j])
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let (d, u) = (host(&data)?, host(&upd)?);
        let out =
            zip_buffers!(&d.data, &u.data, x, y => scatter_nd_typed(x, y, &offsets, slice, red));
        Ok(vec![value(dshape, out)?])
    })
}

fn tensor_scatter_typed<T: Elem>(
    cache: &[T],
    update: &[T],
    writes: &[(usize, usize)],
    block: usize,
) -> Vec<T> {
    let mut out = cache.to_vec();
    for &(dst, src) in writes {
        out[dst..dst + block].copy_from_slice(&update[src..src + block]);
    }
    out
}

/// `TensorScatter(past_cache, update, write_indices)` (opset 24) with `mode` linear or circular
/// and `axis` (default -2): writes `update` into the cache at each batch's write position.
pub fn tensor_scatter(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let circular = match ctx.string("mode", "linear")?.as_str() {
        "linear" => false,
        "circular" => true,
        other => return Err(format!("unknown TensorScatter mode `{other}`")),
    };
    let a = ctx.int("axis", -2)?;
    op(move |mut ins| {
        let cache = ins.take(0)?;
        let update = ins.take(1)?;
        let cshape = cache.shape();
        let ushape = update.shape();
        let ax = axis_of(a, &cshape)?;
        if ax == 0 {
            return Err("TensorScatter axis must not be the batch axis 0".into());
        }
        if ushape.len() != cshape.len()
            || (0..cshape.len()).any(|i| {
                if i == ax {
                    ushape[i] > cshape[i]
                } else {
                    ushape[i] != cshape[i]
                }
            })
        {
            return Err(format!(
                "update shape {ushape:?} does not fit cache shape {cshape:?} on axis {ax}"
            ));
        }
        let batch = cshape[0];
        let w = match ins.opt(2) {
            Some(v) => int_values(&v, "write_indices")?,
            None => vec![0; batch],
        };
        if w.len() != batch {
            return Err(format!(
                "write_indices has {} values for batch size {batch}",
                w.len()
            ));
        }
        let (max_seq, seq) = (cshape[ax], ushape[ax]);
        let block: usize = cshape[ax + 1..].iter().product();
        let outer: usize = cshape[..ax].iter().product();
        let per_batch = outer / batch.max(1);
        let mut writes = Vec::with_capacity(outer * seq);
        for o in 0..outer {
            let start = w[o / per_batch.max(1)];
            for s in 0..seq {
                let pos = start.checked_add(s as i64).ok_or("write index overflows")?;
                let pos = if circular {
                    pos.rem_euclid(max_seq.max(1) as i64) as usize
                } else if (0..max_seq as i64).contains(&pos) {
                    pos as usize
                } else {
                    return Err(format!(
                        "write position {pos} is out of range for axis size {max_seq}"
                    ));
                };
                writes.push(((o * max_seq + pos) * block, (o * seq + s) * block));
            }
        }
        let (c, u) = (host(&cache)?, host(&update)?);
        let out: Buffer =
            zip_buffers!(&c.data, &u.data, x, y => tensor_scatter_typed(x, y, &writes, block));
        Ok(vec![value(cshape, out)?])
    })
}
