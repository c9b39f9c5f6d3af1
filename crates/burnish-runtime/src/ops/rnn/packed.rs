//! `LSTM`, `GRU` and `RNN` with constant weights: each direction's `W` and `R` are packed
//! once at build ([`PackedLinear`], biases folded in), the input projection of all steps is
//! one product, and each step is one recurrent product and one pass of the gate arithmetic
//! over plain slices. The general path runs a dozen tensor ops per step, whose dispatch cost
//! dominates the small cells of streaming models (hidden 64-256, one step per call).

use burnish_kernels::f32::linear::PackedLinear;
use burnish_kernels::f32::math::{sigmoid, tanh};

use super::super::util::{check_numel, dense, dims, float, upload_f32};
use super::super::{BuildCtx, Inputs, Op};
use super::RnnAttrs;
use crate::value::Value;

/// Which cell, with its gate count.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Cell {
    /// Gates i, o, f, c.
    Lstm,
    /// Gates z, r, h.
    Gru { linear_before_reset: bool },
    /// One tanh gate.
    Rnn,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
            Cell::Rnn => 1,
        }
    }
}

/// One direction's packed weights.
struct Direction {
    /// `x -> gates`, with `Wb` (and `Rb` where it simply adds) folded in.
    input: PackedLinear,
    /// `h -> gates` (GRU without `linear_before_reset`: only z and r).
    recurrent: PackedLinear,
    /// GRU without `linear_before_reset`: `(r * h) -> h gate`, with `Rb`'s h part.
    reset: Option<PackedLinear>,
}

/// The op: attributes, cell and packed directions.
pub(super) struct PackedRnn {
    cell: Cell,
    attrs: RnnAttrs,
    input_size: usize,
    dirs: Vec<Direction>,
    captured: Vec<usize>,
}

/// The packed op when `W`, `R` (and `B`, if given) are constant f32 of the right shapes and
/// the node has no `sequence_lens` and no peepholes; `None` otherwise.
pub(super) fn build(ctx: &BuildCtx, cell: Cell, attrs: &RnnAttrs) -> Option<PackedRnn> {
    let optional = |i: usize| ctx.node.input(i).is_some();
    if optional(4) || optional(7) || attrs.hidden == 0 {
        return None;
    }
    let constant = |i: usize| ctx.consts.get(i)?.as_ref()?.as_f32().map(|v| v.to_vec());
    let (w, r) = (constant(1)?, constant(2)?);
    let (h, g) = (attrs.hidden, cell.gates());
    let gh = g.checked_mul(h)?;
    let wshape = &ctx.consts[1].as_ref()?.shape;
    if wshape.len() != 3
        || wshape[0] != attrs.dirs
        || wshape[1] != gh
        || Some(r.len()) != attrs.dirs.checked_mul(gh)?.checked_mul(h)
    {
        return None;
    }
    let input_size = wshape[2];
    let bias = if optional(3) {
        let b = constant(3)?;
        (b.len() == attrs.dirs * 2 * gh).then_some(b)?
    } else {
        vec![0.0; attrs.dirs * 2 * gh]
    };
    let mut dirs = Vec::with_capacity(attrs.dirs);
    for d in 0..attrs.dirs {
        let wd = &w[d * gh * input_size..][..gh * input_size];
        let rd = &r[d * gh * h..][..gh * h];
        let (wb, rb) = bias[d * 2 * gh..][..2 * gh].split_at(gh);
        let pack = |m: &[f32], k: usize, n: usize| PackedLinear::new(m, k, n, true);
        let dir = match cell {
            Cell::Gru {
                linear_before_reset: false,
            } => {
                let mut xb = wb.to_vec();
                xb[..2 * h].iter_mut().zip(rb).for_each(|(x, r)| *x += r);
                Direction {
                    input: pack(wd, input_size, gh)?.with_bias(xb)?,
                    recurrent: pack(&rd[..2 * h * h], h, 2 * h)?,
                    reset: Some(pack(&rd[2 * h * h..], h, h)?.with_bias(rb[2 * h..].to_vec())?),
                }
            }
            Cell::Gru {
                linear_before_reset: true,
            } => Direction {
                input: pack(wd, input_size, gh)?.with_bias(wb.to_vec())?,
                recurrent: pack(rd, h, gh)?.with_bias(rb.to_vec())?,
                reset: None,
            },
            Cell::Lstm | Cell::Rnn => {
                let xb: Vec<f32> = wb.iter().zip(rb).map(|(a, b)| a + b).collect();
                Direction {
                    input: pack(wd, input_size, gh)?.with_bias(xb)?,
                    recurrent: pack(rd, h, gh)?,
                    reset: None,
                }
            }
        };
        dirs.push(dir);
    }
    let mut captured = vec![1, 2];
    if optional(3) {
        captured.push(3);
    }
    Some(PackedRnn {
        cell,
        attrs: attrs.clone(),
        input_size,
        dirs,
        captured,
    })
}

/// A float input as an f32 host vector in its logical order.
fn host(v: Value) -> Result<(Vec<usize>, Vec<f32>), String> {
    let t = dense(float(v)?);
    let shape = dims(&t);
    let values = t
        .as_slice::<f32>()
        .ok_or("recurrent op inputs must be float32")?
        .to_vec();
    Ok((shape, values))
}

/// Swaps the first two axes of a row-major `[a, b, rest]` buffer.
fn swap01(v: &[f32], a: usize, b: usize, rest: usize) -> Vec<f32> {
    let mut out = vec![0f32; v.len()];
    for i in 0..a {
        for j in 0..b {
            out[(j * a + i) * rest..][..rest].copy_from_slice(&v[(i * b + j) * rest..][..rest]);
        }
    }
    out
}

impl Op for PackedRnn {
    fn run(&self, mut ins: Inputs) -> Result<Vec<Value>, String> {
        let a = &self.attrs;
        let (h, gh, dirs) = (a.hidden, self.cell.gates() * a.hidden, a.dirs);
        let (sx, x) = host(ins.take(0)?)?;
        if sx.len() != 3 || sx[2] != self.input_size {
            return Err(format!(
                "X {sx:?} must be rank 3 with {} features",
                self.input_size
            ));
        }
        let (seq, batch) = if a.layout == 0 {
            (sx[0], sx[1])
        } else {
            (sx[1], sx[0])
        };
        let x = if a.layout == 0 {
            x
        } else {
            swap01(&x, batch, seq, self.input_size)
        };
        let mut state = |i: usize, what: &str| -> Result<Vec<f32>, String> {
            let Some(v) = ins.opt(i) else {
                return Ok(vec![0.0; dirs * batch * h]);
            };
            let (s, v) = host(v)?;
            let want = if a.layout == 0 {
                [dirs, batch, h]
            } else {
                [batch, dirs, h]
            };
            if s != want {
                return Err(format!("{what} {s:?} does not fit {want:?}"));
            }
            Ok(if a.layout == 0 {
                v
            } else {
                swap01(&v, batch, dirs, h)
            })
        };
        let h0 = state(5, "initial_h")?;
        let c0 = if self.cell == Cell::Lstm {
            state(6, "initial_c")?
        } else {
            Vec::new()
        };
        let (ys, ss) = if a.layout == 0 {
            (vec![seq, dirs, batch, h], vec![dirs, batch, h])
        } else {
            (vec![batch, seq, dirs, h], vec![batch, dirs, h])
        };
        check_numel(&ys)?;
        check_numel(&[seq, batch, gh])?;
        let mut y = vec![0f32; seq * dirs * batch * h];
        let (mut yh, mut yc) = (h0, c0);
        let mut gates = vec![0f32; batch * gh];
        let mut reset = vec![0f32; batch * h];
        for (d, dir) in self.dirs.iter().enumerate() {
            let mut xw = vec![0f32; seq * batch * gh];
            dir.input
                .forward(&x, seq * batch, &mut xw)
                .ok_or("recurrent input projection: sizes do not match")?;
            let ht = &mut yh[d * batch * h..][..batch * h];
            let ct: &mut [f32] = match self.cell {
                Cell::Lstm => &mut yc[d * batch * h..][..batch * h],
                _ => &mut [],
            };
            let backward = d == 1 || a.reverse;
            for s in 0..seq {
                let t = if backward { seq - 1 - s } else { s };
                let xt = &xw[t * batch * gh..][..batch * gh];
                self.step(dir, xt, ht, ct, &mut gates, &mut reset)?;
                y[((t * dirs + d) * batch) * h..][..batch * h].copy_from_slice(ht);
            }
        }
        let (y, yh, yc) = if a.layout == 0 {
            (y, yh, yc)
        } else {
            let yc = if yc.is_empty() {
                yc
            } else {
                swap01(&yc, dirs, batch, h)
            };
            (
                swap01(&y, seq * dirs, batch, h),
                swap01(&yh, dirs, batch, h),
                yc,
            )
        };
        let mut outs = vec![
            Value::Float(upload_f32(y, ys)),
            Value::Float(upload_f32(yh, ss.clone())),
        ];
        if self.cell == Cell::Lstm {
            outs.push(Value::Float(upload_f32(yc, ss)));
        }
        Ok(outs)
    }

    fn captured(&self) -> &[usize] {
        &self.captured
    }
}

impl PackedRnn {
    /// One time step: `ht` (and the LSTM's `ct`) from the step's input projection `xt`.
    fn step(
        &self,
        dir: &Direction,
        xt: &[f32],
        ht: &mut [f32],
        ct: &mut [f32],
        gates: &mut Vec<f32>,
        reset: &mut [f32],
    ) -> Result<(), String> {
        let h = self.attrs.hidden;
        let batch = ht.len() / h;
        let n = dir.recurrent.n();
        gates.resize(batch * n, 0.0);
        dir.recurrent
            .forward(ht, batch, gates)
            .ok_or("recurrent product: sizes do not match")?;
        let gh = xt.len() / batch.max(1);
        for b in 0..batch {
            let x = &xt[b * gh..][..gh];
            let g = &gates[b * n..][..n];
            let hb = &mut ht[b * h..][..h];
            match self.cell {
                Cell::Lstm => {
                    let cb = &mut ct[b * h..][..h];
                    for j in 0..h {
                        let i = sigmoid(x[j] + g[j]);
                        let o = sigmoid(x[h + j] + g[h + j]);
                        let f = sigmoid(x[2 * h + j] + g[2 * h + j]);
                        let cand = tanh(x[3 * h + j] + g[3 * h + j]);
                        cb[j] = f * cb[j] + i * cand;
                        hb[j] = o * tanh(cb[j]);
                    }
                }
                Cell::Rnn => {
                    for j in 0..h {
                        hb[j] = tanh(x[j] + g[j]);
                    }
                }
                Cell::Gru {
                    linear_before_reset: true,
                } => {
                    for j in 0..h {
                        let z = sigmoid(x[j] + g[j]);
                        let r = sigmoid(x[h + j] + g[h + j]);
                        let cand = tanh(x[2 * h + j] + r * g[2 * h + j]);
                        hb[j] = (1.0 - z) * cand + z * hb[j];
                    }
                }
                Cell::Gru {
                    linear_before_reset: false,
                } => {
                    let rb = &mut reset[b * h..][..h];
                    for j in 0..h {
                        rb[j] = sigmoid(x[h + j] + g[h + j]) * hb[j];
                    }
                }
            }
        }
        if let (
            Cell::Gru {
                linear_before_reset: false,
            },
            Some(rp),
        ) = (self.cell, &dir.reset)
        {
            let mut rh = vec![0f32; batch * h];
            rp.forward(reset, batch, &mut rh)
                .ok_or("GRU reset product: sizes do not match")?;
            for b in 0..batch {
                let x = &xt[b * gh..][..gh];
                let g = &gates[b * n..][..n];
                for j in 0..h {
                    let z = sigmoid(x[j] + g[j]);
                    let cand = tanh(x[2 * h + j] + rh[b * h + j]);
                    let hv = &mut ht[b * h + j];
                    *hv = (1.0 - z) * cand + z * *hv;
                }
            }
        }
        Ok(())
    }
}
