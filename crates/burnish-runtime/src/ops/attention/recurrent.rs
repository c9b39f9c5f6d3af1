//! Ops that carry a state between calls (opset 27): `LinearAttention` (linear, gated, delta
//! and gated-delta recurrences over a `[d_k, d_v]` state per key/value head) and
//! `CausalConvWithState` (a depthwise causal 1-D convolution whose left context is the
//! previous call's tail). Host loops in f32, as the reference computes.

use super::host::{f32s, float_input, round_to, rows_mut, upload};
use crate::ops::util::{check_numel, dims};
use crate::ops::{BuildCtx, Inputs, Op, op};
use crate::value::Value;

/// Which terms of the recurrence `LinearAttention` applies.
#[derive(Clone, Copy)]
struct Rule {
    gating: bool,
    delta: bool,
}

/// Parsed `LinearAttention` attributes.
struct LinearConfig {
    q_heads: usize,
    kv_heads: usize,
    scale: f32,
    rule: Rule,
}

/// `LinearAttention(query, key, value, past_state?, decay?, beta?)`.
pub fn linear_attention(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let heads = |name: &str| -> Result<usize, String> {
        let h = ctx.int(name, 0)?;
        usize::try_from(h)
            .ok()
            .filter(|&h| h > 0)
            .ok_or_else(|| format!("attribute `{name}` must be positive, found {h}"))
    };
    let (q_heads, kv_heads) = (heads("q_num_heads")?, heads("kv_num_heads")?);
    if q_heads % kv_heads != 0 {
        return Err(format!(
            "q_num_heads {q_heads} must be a multiple of kv_num_heads {kv_heads}"
        ));
    }
    let rule = match ctx.string("update_rule", "gated_delta")?.as_str() {
        "linear" => Rule {
            gating: false,
            delta: false,
        },
        "gated" => Rule {
            gating: true,
            delta: false,
        },
        "delta" => Rule {
            gating: false,
            delta: true,
        },
        "gated_delta" => Rule {
            gating: true,
            delta: true,
        },
        other => return Err(format!("unsupported update_rule `{other}`")),
    };
    let cfg = LinearConfig {
        q_heads,
        kv_heads,
        scale: ctx.float("scale", 0.0)?,
        rule,
    };
    op(move |ins| run_linear(&cfg, ins))
}

/// A `[batch, seq, last]` input as f32 values and its last dim.
fn seq_input(v: Value, what: &str, batch: usize, seq: usize) -> Result<(Vec<f32>, usize), String> {
    let t = float_input(v, what)?;
    let s = dims(&t);
    if s.len() != 3 || s[0] != batch || s[1] != seq {
        return Err(format!("`{what}` must be [{batch}, {seq}, _], found {s:?}"));
    }
    Ok((f32s(&t)?.into_owned(), s[2]))
}

fn run_linear(cfg: &LinearConfig, mut ins: Inputs) -> Result<Vec<Value>, String> {
    let query = float_input(ins.take(0)?, "query")?;
    let dtype = query.dtype();
    let qs = dims(&query);
    let [b, t, qh] = qs[..] else {
        return Err(format!("`query` must be 3-D, found {qs:?}"));
    };
    let (hq, hk) = (cfg.q_heads, cfg.kv_heads);
    let rep = hq / hk;
    let q = f32s(&query)?;
    let (k, kh) = seq_input(ins.take(1)?, "key", b, t)?;
    let (v, vh) = seq_input(ins.take(2)?, "value", b, t)?;
    let dk = qh / hq;
    if qh % hq != 0 || kh != hk * dk || vh % hk != 0 {
        return Err(format!(
            "query hidden {qh}, key hidden {kh} and value hidden {vh} do not split into \
             {hq} query and {hk} key/value heads of one key size"
        ));
    }
    let dv = vh / hk;
    let (mut state, state_dtype) = match ins.opt(3) {
        Some(p) => {
            let p = float_input(p, "past_state")?;
            if dims(&p) != [b, hk, dk, dv] {
                return Err(format!(
                    "`past_state` must be [{b}, {hk}, {dk}, {dv}], found {:?}",
                    dims(&p)
                ));
            }
            (f32s(&p)?.into_owned(), p.dtype())
        }
        None => (vec![0.0; check_numel(&[b, hk, dk, dv])?], dtype),
    };
    let decay = ins
        .opt(4)
        .map(|d| seq_input(d, "decay", b, t))
        .transpose()?;
    let beta = ins.opt(5).map(|d| seq_input(d, "beta", b, t)).transpose()?;
    if cfg.rule.gating != decay.is_some() || cfg.rule.delta != beta.is_some() {
        return Err(format!(
            "this update_rule {} `decay` and {} `beta`",
            if cfg.rule.gating { "needs" } else { "forbids" },
            if cfg.rule.delta { "needs" } else { "forbids" }
        ));
    }
    if let Some((_, w)) = &decay
        && *w != hk
        && *w != hk * dk
    {
        return Err(format!("`decay` last dim {w} must be {hk} or {}", hk * dk));
    }
    if let Some((_, w)) = &beta
        && *w != hk
        && *w != 1
    {
        return Err(format!("`beta` last dim {w} must be {hk} or 1"));
    }
    let scale = if cfg.scale == 0.0 {
        1.0 / (dk as f32).sqrt()
    } else {
        cfg.scale
    };
    let mut out = vec![0.0f32; check_numel(&[b, t, hq * dv])?];
    let mut vt = vec![0.0f32; dv];
    for (bh, s) in state.chunks_mut((dk * dv).max(1)).enumerate().take(b * hk) {
        let (bi, h) = (bh / hk, bh % hk);
        for i in 0..t {
            let tok = bi * t + i;
            let kt = &k[tok * kh + h * dk..][..dk];
            vt.copy_from_slice(&v[tok * vh + h * dv..][..dv]);
            if let Some((g, w)) = &decay {
                for (d, srow) in s.chunks_mut(dv.max(1)).enumerate() {
                    let gate = if *w == hk {
                        g[tok * w + h]
                    } else {
                        g[tok * w + h * dk + d]
                    };
                    let f = gate.exp();
                    srow.iter_mut().for_each(|x| *x *= f);
                }
            }
            if let Some((be, w)) = &beta {
                let bt = be[tok * w + if *w == 1 { 0 } else { h }];
                for (m, x) in vt.iter_mut().enumerate() {
                    let got: f32 = (0..dk).map(|d| s[d * dv + m] * kt[d]).sum();
                    *x = bt * (*x - got);
                }
            }
            for (d, srow) in s.chunks_mut(dv.max(1)).enumerate() {
                srow.iter_mut().zip(&vt).for_each(|(x, &u)| *x += kt[d] * u);
            }
            for qhd in h * rep..(h + 1) * rep {
                let qt = &q[tok * qh + qhd * dk..][..dk];
                let o = &mut out[tok * hq * dv + qhd * dv..][..dv];
                for (m, y) in o.iter_mut().enumerate() {
                    *y = scale * (0..dk).map(|d| qt[d] * s[d * dv + m]).sum::<f32>();
                }
            }
        }
    }
    Ok(vec![
        Value::Float(upload(out, vec![b, t, hq * dv], dtype)),
        Value::Float(upload(state, vec![b, hk, dk, dv], state_dtype)),
    ])
}

/// `CausalConvWithState(input, weight, bias?, past_state?, activation)`.
pub fn causal_conv_with_state(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let silu = match ctx.string("activation", "none")?.as_str() {
        "none" => false,
        "silu" | "swish" => true,
        other => return Err(format!("unsupported activation `{other}`")),
    };
    op(move |mut ins| {
        let x = float_input(ins.take(0)?, "input")?;
        let w = float_input(ins.take(1)?, "weight")?;
        let dtype = x.dtype();
        let (sx, sw) = (dims(&x), dims(&w));
        let (&[b, c, l], &[wc, 1, k]) = (&sx[..], &sw[..]) else {
            return Err(format!(
                "input must be [batch, channels, length] and weight [channels, 1, k], found \
                 {sx:?} and {sw:?}"
            ));
        };
        if wc != c || k == 0 {
            return Err(format!(
                "weight {sw:?} does not match {c} channels (or has an empty kernel)"
            ));
        }
        let bias = ins.opt(2).map(|v| float_input(v, "bias")).transpose()?;
        let bias = bias.as_ref().map(f32s).transpose()?;
        if bias.as_ref().is_some_and(|v| v.len() != c) {
            return Err(format!("`bias` must have {c} values"));
        }
        let ctxlen = k - 1;
        let past = ins
            .opt(3)
            .map(|v| float_input(v, "past_state"))
            .transpose()?;
        if let Some(p) = &past
            && (dims(p) != [b, c, ctxlen] || p.dtype() != dtype)
        {
            return Err(format!(
                "`past_state` must be [{b}, {c}, {ctxlen}] of the input's type, found {:?}",
                dims(p)
            ));
        }
        let past = past.as_ref().map(f32s).transpose()?;
        let (xs, ws) = (f32s(&x)?, f32s(&w)?);
        let width = l + ctxlen;
        let mut padded = vec![0.0f32; check_numel(&[b, c, width])?];
        rows_mut(&mut padded, width, |r, row| {
            if let Some(p) = &past {
                row[..ctxlen].copy_from_slice(&p[r * ctxlen..(r + 1) * ctxlen]);
            }
            row[ctxlen..].copy_from_slice(&xs[r * l..(r + 1) * l]);
        });
        let mut out = vec![0.0f32; b * c * l];
        rows_mut(&mut out, l, |r, row| {
            let ch = r % c;
            let (src, taps) = (
                &padded[r * width..(r + 1) * width],
                &ws[ch * k..(ch + 1) * k],
            );
            let b0 = bias.as_ref().map_or(0.0, |v| v[ch]);
            for (i, y) in row.iter_mut().enumerate() {
                let acc = src[i..i + k]
                    .iter()
                    .zip(taps)
                    .map(|(a, w)| a * w)
                    .sum::<f32>()
                    + b0;
                *y = if silu {
                    let z = round_to(acc, dtype);
                    z / (1.0 + (-z).exp())
                } else {
                    acc
                };
            }
        });
        let mut state = vec![0.0f32; b * c * ctxlen];
        rows_mut(&mut state, ctxlen, |r, row| {
            row.copy_from_slice(&padded[r * width + l..(r + 1) * width]);
        });
        Ok(vec![
            Value::Float(upload(out, sx, dtype)),
            Value::Float(upload(state, vec![b, c, ctxlen], dtype)),
        ])
    })
}
