//! `fold_conv_add_mul`: folds a constant per-channel Mul or Add after a Conv or Gemm into its
//! weights and bias.
//!
//! ```text
//!   x ──> Conv(W, b) ──> Mul(v[C,1,1]) ──> y   =>  x ──> Conv(W·v, b·v) ──> y
//!   x ──> Conv(W, b) ──> Add(v[C,1,1]) ──> y   =>  x ──> Conv(W, b + v) ──> y
//!   x ──> Gemm(A, B, C) ──> Mul/Add(v[N]) ──> y  =>  B columns scaled, C updated, beta = 1
//! ```
//!
//! Refuses: the producer's output read elsewhere or a graph output; non-constant or non-f32
//! weights, bias or operand; an operand that is not a scalar or one value per output channel
//! on the channel axis (anything that would broadcast the output to another shape); a Gemm bias
//! that is not per-column. Exact up to float rounding.

use std::sync::Arc;

use burnish_model::{AttrExt, Attribute, Model, TensorData};

use crate::rewrite::{Editor, absorb, is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FoldConvAddMul;

impl Pass for FoldConvAddMul {
    fn name(&self) -> &'static str {
        "fold_conv_add_mul"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |g, j| Ok(fold_at(g, j).is_some()))
    }
}

fn f32_const(g: &Editor, name: Option<&str>) -> Option<(Vec<usize>, Vec<f32>)> {
    let t = g.constant(name?)?;
    Some((t.shape.clone(), t.as_f32()?.to_vec()))
}

/// The per-channel vector of `shape` for `channels` channels on axis `axis` of a rank-`rank`
/// output, if it broadcasts without changing the output shape.
fn per_channel(
    shape: &[usize],
    v: &[f32],
    channels: usize,
    axis: usize,
    rank: usize,
) -> Option<Vec<f32>> {
    if v.len() == 1 && shape.len() <= rank {
        return Some(vec![v[0]; channels]);
    }
    if v.len() != channels || shape.len() > rank {
        return None;
    }
    let offset = rank - shape.len();
    let ok = shape.iter().enumerate().all(|(k, &d)| {
        if k + offset == axis {
            d == channels
        } else {
            d == 1
        }
    });
    (ok && axis >= offset).then(|| v.to_vec())
}

fn fold_at(g: &mut Editor, j: usize) -> Option<()> {
    let op = g.node(j);
    let is_mul = is_op(op, "Mul");
    if !is_mul && !is_op(op, "Add") {
        return None;
    }
    let (k, i) = (0..2).find_map(|k| {
        let p = g.producer(op.input(k)?)?;
        let n = g.node(p);
        ((is_op(n, "Conv") || is_op(n, "Gemm")) && g.single_use(op.input(k)?)).then_some((k, p))
    })?;
    let (vshape, v) = f32_const(g, op.input(1 - k))?;
    let base = g.node(i);
    let (wshape, mut w) = f32_const(g, base.input(1))?;
    let conv = is_op(base, "Conv");
    let (channels, axis, rank) = if conv {
        (*wshape.first()?, 1, wshape.len())
    } else {
        let trans_b = base.attrs.int_or("transB", 0).ok()? != 0;
        (if trans_b { wshape[0] } else { *wshape.get(1)? }, 1, 2)
    };
    let v = per_channel(&vshape, &v, channels, axis, rank)?;
    let beta = base.attrs.float_or("beta", 1.0).ok()?;
    let mut bias = match base.input(2) {
        None => vec![0.0; channels],
        Some(_) => {
            let (bshape, b) = f32_const(g, base.input(2))?;
            let b = if conv {
                b
            } else {
                per_channel(&bshape, &b, channels, 1, 2)?
            };
            if b.len() != channels {
                return None;
            }
            b.iter().map(|x| x * beta).collect()
        }
    };
    if is_mul {
        let trans_b = !conv && base.attrs.int_or("transB", 0).ok()? != 0;
        let per = w.len() / channels;
        for (idx, x) in w.iter_mut().enumerate() {
            let ch = if conv || trans_b {
                idx / per
            } else {
                idx % channels
            };
            *x *= v[ch];
        }
        bias.iter_mut().zip(&v).for_each(|(b, s)| *b *= s);
    } else {
        bias.iter_mut().zip(&v).for_each(|(b, s)| *b += s);
    }
    let name = base.name.clone();
    if is_mul {
        let wname = g.fresh_name(&format!("{name}_scaled_weight"));
        g.set_initializer(wname.clone(), Arc::new(TensorData::from_f32(wshape, w)));
        g.edit(i, |n| n.inputs[1] = wname);
    }
    let bname = g.fresh_name(&format!("{name}_folded_bias"));
    g.set_initializer(
        bname.clone(),
        Arc::new(TensorData::from_f32(vec![channels], bias)),
    );
    g.edit(i, |base| {
        base.inputs.resize(3, String::new());
        base.inputs[2] = bname;
        if !conv {
            base.attrs.insert("beta".into(), Attribute::Float(1.0));
        }
    });
    absorb(g, i, j);
    Some(())
}
