//! Recurrent ops: `RNN`, `LSTM` (with peepholes) and `GRU` (forward, reverse, bidirectional;
//! default activations).
//!
//! The input projection of all time steps is one matrix product; each step then adds the
//! recurrent product and applies the gates. With constant weights the cells run on packed
//! weights over plain slices ([`packed`]); this general path takes the rest.

mod packed;

use burn_backend::ops::{ActivationOps, FloatTensorOps};
use burn_backend::{Scalar, Shape, Slice};
use burn_flex::FlexTensor;

use super::linalg::matmul_prims;
use super::util::{dims, float};
use super::{BuildCtx, Inputs, Op, op};
use crate::value::{B, Value};

#[derive(Clone)]
pub(super) struct RnnAttrs {
    hidden: usize,
    dirs: usize,
    reverse: bool,
    layout: i64,
    linear_before_reset: bool,
}

fn attrs(ctx: &BuildCtx) -> Result<RnnAttrs, String> {
    let dir = ctx.string("direction", "forward")?;
    if let Some(acts) = ctx.node.attrs.get("activations")
        && let burnish_model::Attribute::Strings(a) = acts
    {
        let defaults: &[&str] = match ctx.node.op_type.as_str() {
            "LSTM" => &["Sigmoid", "Tanh", "Tanh"],
            "GRU" => &["Sigmoid", "Tanh"],
            _ => &["Tanh"],
        };
        let default = a.chunks(defaults.len()).all(|c| {
            c.iter()
                .zip(defaults)
                .all(|(s, d)| s.eq_ignore_ascii_case(d))
        });
        if !default {
            return Err(format!(
                "activations {a:?} are not supported (only the defaults)"
            ));
        }
    }
    if ctx.node.attrs.contains_key("clip") {
        return Err("the `clip` attribute is not supported".into());
    }
    if ctx.int("input_forget", 0)? != 0 {
        return Err("input_forget=1 is not supported".into());
    }
    Ok(RnnAttrs {
        hidden: ctx.int("hidden_size", 0)?.max(0) as usize,
        dirs: if dir == "bidirectional" { 2 } else { 1 },
        reverse: dir == "reverse",
        layout: ctx.int("layout", 0)?,
        linear_before_reset: ctx.int("linear_before_reset", 0)? != 0,
    })
}

fn narrow(t: FlexTensor, dim: usize, start: usize, len: usize) -> FlexTensor {
    let s = dims(&t);
    let sl: Vec<Slice> = s
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            if i == dim {
                Slice::from(start..start + len)
            } else {
                Slice::from(0..n)
            }
        })
        .collect();
    B::float_slice(t, &sl)
}

fn reshape(t: FlexTensor, s: &[usize]) -> FlexTensor {
    B::float_reshape(t, Shape::from(s.to_vec()))
}

struct Common {
    x: FlexTensor,
    w: FlexTensor,
    r: FlexTensor,
    b: Option<FlexTensor>,
    h0: Option<FlexTensor>,
    seq: usize,
    batch: usize,
}

fn common(ins: &mut Inputs, a: &RnnAttrs, gates: usize) -> Result<Common, String> {
    let mut x = float(ins.take(0)?)?;
    let w = float(ins.take(1)?)?;
    let r = float(ins.take(2)?)?;
    let b = ins.opt(3).map(float).transpose()?;
    let sx = dims(&x);
    if sx.len() != 3 {
        return Err(format!("X {sx:?} must be rank 3"));
    }
    if let Some(lens) = ins.opt(4) {
        let l = lens.host_i64()?;
        let seq = if a.layout == 0 { sx[0] } else { sx[1] };
        if l.iter().any(|&v| v as usize != seq) {
            return Err("sequence_lens shorter than the sequence are not supported".into());
        }
    }
    let mut h0 = ins.opt(5).map(float).transpose()?;
    if a.layout != 0 {
        x = B::float_swap_dims(x, 0, 1);
        h0 = h0.map(|h| B::float_swap_dims(h, 0, 1));
    }
    let sx = dims(&x);
    let (sw, sr) = (dims(&w), dims(&r));
    let h = a.hidden;
    if sx.len() != 3 || sw != [a.dirs, gates * h, sx[2]] || sr != [a.dirs, gates * h, h] {
        return Err(format!(
            "X {sx:?}, W {sw:?}, R {sr:?} do not fit hidden_size {h}"
        ));
    }
    if let Some(b) = &b
        && dims(b) != [a.dirs, 2 * gates * h]
    {
        return Err(format!("B {:?} does not fit hidden_size {h}", dims(b)));
    }
    if let Some(h0) = &h0
        && dims(h0) != [a.dirs, sx[1], h]
    {
        return Err(format!(
            "initial_h {:?} does not fit hidden_size {h}",
            dims(h0)
        ));
    }
    Ok(Common {
        seq: sx[0],
        batch: sx[1],
        x,
        w,
        r,
        b,
        h0,
    })
}

/// Per direction: input projection of all steps `[seq, batch, G*H]` plus both biases.
fn project(
    c: &Common,
    d: usize,
    gates: usize,
    h: usize,
) -> (
    FlexTensor,
    FlexTensor,
    Option<FlexTensor>,
    Option<FlexTensor>,
) {
    let wd = reshape(narrow(c.w.clone(), 0, d, 1), &[gates * h, dims(&c.w)[2]]);
    let rd = reshape(narrow(c.r.clone(), 0, d, 1), &[gates * h, h]);
    let xw = matmul_prims(c.x.clone(), B::float_transpose(wd)).expect("shapes checked");
    let (wb, rb) = match &c.b {
        Some(b) => {
            let bd = reshape(narrow(b.clone(), 0, d, 1), &[2 * gates * h]);
            (
                Some(narrow(bd.clone(), 0, 0, gates * h)),
                Some(narrow(bd, 0, gates * h, gates * h)),
            )
        }
        None => (None, None),
    };
    (xw, B::float_transpose(rd), wb, rb)
}

fn zeros(batch: usize, h: usize, like: &FlexTensor) -> FlexTensor {
    B::float_zeros(
        Shape::from(vec![batch, h]),
        &crate::value::device(),
        like.dtype().into(),
    )
}

fn initial(c: &Common, d: usize, h: usize, t: &Option<FlexTensor>) -> FlexTensor {
    match t {
        Some(s) => reshape(narrow(s.clone(), 0, d, 1), &[c.batch, h]),
        None => zeros(c.batch, h, &c.x),
    }
}

fn finish(
    a: &RnnAttrs,
    c: &Common,
    ys: Vec<Vec<FlexTensor>>,
    last: Vec<Vec<FlexTensor>>,
) -> Vec<Value> {
    let h = a.hidden;
    let per_dir: Vec<FlexTensor> = ys
        .into_iter()
        .map(|steps| reshape(B::float_cat(steps, 0), &[c.seq, 1, c.batch, h]))
        .collect();
    let mut y = B::float_cat(per_dir, 1);
    let mut outs = vec![];
    if a.layout != 0 {
        y = B::float_permute(y, &[2, 0, 1, 3]);
    }
    outs.push(Value::Float(y));
    for states in last {
        let s = B::float_cat(
            states
                .into_iter()
                .map(|t| reshape(t, &[1, c.batch, h]))
                .collect(),
            0,
        );
        outs.push(Value::Float(if a.layout != 0 {
            B::float_swap_dims(s, 0, 1)
        } else {
            s
        }));
    }
    outs
}

fn step_order(seq: usize, backward: bool) -> Vec<usize> {
    if backward {
        (0..seq).rev().collect()
    } else {
        (0..seq).collect()
    }
}

/// `LSTM` (gates i, o, f, c; peepholes `P` = `[p_i, p_o, p_f]` per direction).
pub fn lstm(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = attrs(ctx)?;
    if let Some(p) = packed::build(ctx, packed::Cell::Lstm, &a) {
        return Ok(Box::new(p));
    }
    op(move |mut ins| {
        let peep = ins.opt(7).map(float).transpose()?;
        let c = common(&mut ins, &a, 4)?;
        if let Some(p) = &peep
            && dims(p) != [a.dirs, 3 * a.hidden]
        {
            return Err(format!(
                "P {:?} must be [{}, {}]",
                dims(p),
                a.dirs,
                3 * a.hidden
            ));
        }
        let c0 = ins.opt(6).map(float).transpose()?;
        let c0 = c0.map(|t| {
            if a.layout != 0 {
                B::float_swap_dims(t, 0, 1)
            } else {
                t
            }
        });
        if let Some(t) = &c0
            && dims(t) != [a.dirs, c.batch, a.hidden]
        {
            return Err(format!(
                "initial_c {:?} does not fit hidden_size {}",
                dims(t),
                a.hidden
            ));
        }
        let h = a.hidden;
        let (mut ys, mut hs, mut cs) = (vec![], vec![], vec![]);
        for d in 0..a.dirs {
            let (xw, rt, wb, rb) = project(&c, d, 4, h);
            let mut ht = initial(&c, d, h, &c.h0);
            let mut ct = initial(&c, d, h, &c0);
            let pd = peep.as_ref().map(|p| {
                let row = reshape(narrow(p.clone(), 0, d, 1), &[1, 3 * h]);
                [0, 1, 2].map(|k| narrow(row.clone(), 1, k * h, h))
            });
            let peephole = |g: FlexTensor, k: usize, state: &FlexTensor| match &pd {
                Some(p) => B::float_add(g, B::float_mul(p[k].clone(), state.clone())),
                None => g,
            };
            let mut out = vec![zeros(1, 1, &c.x); c.seq];
            for t in step_order(c.seq, d == 1 || a.reverse) {
                let xt = reshape(narrow(xw.clone(), 0, t, 1), &[c.batch, 4 * h]);
                let mut g = B::float_add(xt, B::float_matmul(ht.clone(), rt.clone()));
                if let (Some(wb), Some(rb)) = (&wb, &rb) {
                    g = B::float_add(g, B::float_add(wb.clone(), rb.clone()));
                }
                let gate = |k: usize| narrow(g.clone(), 1, k * h, h);
                let i = B::sigmoid(peephole(gate(0), 0, &ct));
                let f = B::sigmoid(peephole(gate(2), 2, &ct));
                let cand = B::float_tanh(gate(3));
                ct = B::float_add(B::float_mul(f, ct), B::float_mul(i, cand));
                let o = B::sigmoid(peephole(gate(1), 1, &ct));
                ht = B::float_mul(o, B::float_tanh(ct.clone()));
                out[t] = ht.clone();
            }
            ys.push(out);
            hs.push(ht);
            cs.push(ct);
        }
        Ok(finish(&a, &c, ys, vec![hs, cs]))
    })
}

/// `GRU` (gates z, r, h; `linear_before_reset` either way).
pub fn gru(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = attrs(ctx)?;
    let cell = packed::Cell::Gru {
        linear_before_reset: a.linear_before_reset,
    };
    if let Some(p) = packed::build(ctx, cell, &a) {
        return Ok(Box::new(p));
    }
    op(move |mut ins| {
        let c = common(&mut ins, &a, 3)?;
        let h = a.hidden;
        let (mut ys, mut hs) = (vec![], vec![]);
        for d in 0..a.dirs {
            let (xw, rt, wb, rb) = project(&c, d, 3, h);
            let mut ht = initial(&c, d, h, &c.h0);
            let mut out = vec![zeros(1, 1, &c.x); c.seq];
            for t in step_order(c.seq, d == 1 || a.reverse) {
                let mut xt = reshape(narrow(xw.clone(), 0, t, 1), &[c.batch, 3 * h]);
                if let Some(wb) = &wb {
                    xt = B::float_add(xt, wb.clone());
                }
                let mut hr = B::float_matmul(ht.clone(), rt.clone());
                if let Some(rb) = &rb {
                    hr = B::float_add(hr, rb.clone());
                }
                let xg = |k: usize| narrow(xt.clone(), 1, k * h, h);
                let hg = |k: usize| narrow(hr.clone(), 1, k * h, h);
                let z = B::sigmoid(B::float_add(xg(0), hg(0)));
                let r = B::sigmoid(B::float_add(xg(1), hg(1)));
                let cand = if a.linear_before_reset {
                    B::float_tanh(B::float_add(xg(2), B::float_mul(r, hg(2))))
                } else {
                    let rt_h = narrow(rt.clone(), 1, 2 * h, h);
                    let mut rh = B::float_matmul(B::float_mul(r, ht.clone()), rt_h);
                    if let Some(rb) = &rb {
                        rh = B::float_add(rh, narrow(rb.clone(), 0, 2 * h, h));
                    }
                    B::float_tanh(B::float_add(xg(2), rh))
                };
                let one_minus_z = B::float_add_scalar(B::float_neg(z.clone()), Scalar::from(1.0));
                ht = B::float_add(B::float_mul(one_minus_z, cand), B::float_mul(z, ht));
                out[t] = ht.clone();
            }
            ys.push(out);
            hs.push(ht);
        }
        Ok(finish(&a, &c, ys, vec![hs]))
    })
}

/// `RNN` (`H = tanh(X W^T + H R^T + Wb + Rb)`).
pub fn rnn(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = attrs(ctx)?;
    if let Some(p) = packed::build(ctx, packed::Cell::Rnn, &a) {
        return Ok(Box::new(p));
    }
    op(move |mut ins| {
        let c = common(&mut ins, &a, 1)?;
        let h = a.hidden;
        let (mut ys, mut hs) = (vec![], vec![]);
        for d in 0..a.dirs {
            let (xw, rt, wb, rb) = project(&c, d, 1, h);
            let bias = wb.zip(rb).map(|(w, r)| B::float_add(w, r));
            let mut ht = initial(&c, d, h, &c.h0);
            let mut out = vec![zeros(1, 1, &c.x); c.seq];
            for t in step_order(c.seq, d == 1 || a.reverse) {
                let xt = reshape(narrow(xw.clone(), 0, t, 1), &[c.batch, h]);
                let mut g = B::float_add(xt, B::float_matmul(ht.clone(), rt.clone()));
                if let Some(b) = &bias {
                    g = B::float_add(g, b.clone());
                }
                ht = B::float_tanh(g);
                out[t] = ht.clone();
            }
            ys.push(out);
            hs.push(ht);
        }
        Ok(finish(&a, &c, ys, vec![hs]))
    })
}
