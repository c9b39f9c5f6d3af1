//! `Attention` (opset 23/24): scaled dot-product attention over 3-D (`[batch, seq, heads *
//! head_size]`) or 4-D (`[batch, heads, seq, head_size]`) inputs, with grouped/multi-query
//! heads, a boolean or additive mask, causal masking, softcap, a key/value cache
//! (`past_key`/`past_value` -> `present_key`/`present_value`), `nonpad_kv_seqlen` and the
//! optional `qk_matmul_output`.
//!
//! The mask, the causal triangle and the padding become one additive bias (`-inf` where
//! masked), broadcast over batch and heads; flex's fused attention kernel then computes the
//! output (f16/bf16 in f32). `qk_matmul_output`, when requested, is computed separately.

use burn_backend::ops::{AttentionModuleOptions, FloatTensorOps, ModuleOps};
use burn_backend::{DType as BurnDType, Shape};
use burn_flex::FlexTensor;
use burnish_model::Buffer;

use super::host::{f32s, float_input, rows_mut, upload};
use crate::ops::util::{check_numel, dims, upload_f32};
use crate::ops::{BuildCtx, Inputs, Op, op};
use crate::value::{B, Value};

/// Parsed attributes.
struct Config {
    causal: bool,
    q_heads: Option<usize>,
    kv_heads: Option<usize>,
    mode: i64,
    scale: Option<f64>,
    softcap: Option<f64>,
    want_qk: bool,
}

/// Sizes of one call, after the inputs are in `[batch, heads, seq, size]` form.
struct Geo {
    batch: usize,
    hq: usize,
    hkv: usize,
    sq: usize,
    skv: usize,
    dq: usize,
}

/// The additive bias `[bb, bh, sq, skv]` (`bb` is 1 or batch, `bh` 1 or the query heads).
struct Bias {
    data: Vec<f32>,
    bb: usize,
    bh: usize,
}

/// `Attention`.
pub fn attention(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let heads = |name: &str| -> Result<Option<usize>, String> {
        if !ctx.node.attrs.contains_key(name) {
            return Ok(None);
        }
        let h = ctx.int(name, 0)?;
        usize::try_from(h)
            .ok()
            .filter(|&h| h > 0)
            .map(Some)
            .ok_or_else(|| format!("attribute `{name}` must be positive, found {h}"))
    };
    let mode = ctx.int("qk_matmul_output_mode", 0)?;
    if !(0..=3).contains(&mode) {
        return Err(format!(
            "attribute `qk_matmul_output_mode` must be 0..=3, found {mode}"
        ));
    }
    let scale = ctx
        .node
        .attrs
        .contains_key("scale")
        .then(|| ctx.float("scale", 1.0))
        .transpose()?
        .map(f64::from);
    let softcap = f64::from(ctx.float("softcap", 0.0)?);
    let cfg = Config {
        causal: ctx.int("is_causal", 0)? != 0,
        q_heads: heads("q_num_heads")?,
        kv_heads: heads("kv_num_heads")?,
        mode,
        scale,
        softcap: (softcap > 0.0).then_some(softcap),
        want_qk: ctx.node.outputs.get(3).is_some_and(|s| !s.is_empty()),
    };
    op(move |ins| run(&cfg, ins))
}

/// `[batch, seq, heads * size]` -> `[batch, heads, seq, size]` (a view).
fn split_heads(t: FlexTensor, heads: Option<usize>, what: &str) -> Result<FlexTensor, String> {
    let s = dims(&t);
    let heads = heads.ok_or_else(|| {
        format!("3-D `{what}` needs the attributes `q_num_heads` and `kv_num_heads`")
    })?;
    if !s[2].is_multiple_of(heads) {
        return Err(format!(
            "`{what}` hidden size {} is not divisible by {heads} heads",
            s[2]
        ));
    }
    let t = B::float_reshape(t, Shape::from(vec![s[0], s[1], heads, s[2] / heads]));
    Ok(B::float_swap_dims(t, 1, 2))
}

fn run(cfg: &Config, mut ins: Inputs) -> Result<Vec<Value>, String> {
    let q = float_input(ins.take(0)?, "Q")?;
    let k = float_input(ins.take(1)?, "K")?;
    let v = float_input(ins.take(2)?, "V")?;
    let dtype = q.dtype();
    if k.dtype() != dtype || v.dtype() != dtype {
        return Err(format!(
            "Q, K and V must share one element type, found {:?}, {:?} and {:?}",
            dtype,
            k.dtype(),
            v.dtype()
        ));
    }
    let rank = dims(&q).len();
    if rank != 3 && rank != 4 || dims(&k).len() != rank || dims(&v).len() != rank {
        return Err(format!(
            "Q, K and V must all be 3-D or all 4-D, found shapes {:?}, {:?} and {:?}",
            dims(&q),
            dims(&k),
            dims(&v)
        ));
    }
    let (q, mut k, mut v) = if rank == 3 {
        (
            split_heads(q, cfg.q_heads, "Q")?,
            split_heads(k, cfg.kv_heads, "K")?,
            split_heads(v, cfg.kv_heads, "V")?,
        )
    } else {
        (q, k, v)
    };
    let mask = ins.opt(3);
    let mut past_len = 0;
    if let Some(pk) = ins.opt(4) {
        let pk = float_input(pk, "past_key")?;
        past_len = dims(&pk).get(2).copied().unwrap_or(0);
        k = concat_cache(pk, k, "past_key", "K")?;
    }
    if let Some(pv) = ins.opt(5) {
        v = concat_cache(float_input(pv, "past_value")?, v, "past_value", "V")?;
    }
    let nonpad = ins.opt(6).map(|n| n.host_i64()).transpose()?;
    let (sq_, sk, sv) = (dims(&q), dims(&k), dims(&v));
    let geo = Geo {
        batch: sq_[0],
        hq: sq_[1],
        hkv: sk[1],
        sq: sq_[2],
        skv: sk[2],
        dq: sq_[3],
    };
    if sk[0] != geo.batch || sv[0] != geo.batch || sv[1] != geo.hkv || sv[2] != geo.skv {
        return Err(format!(
            "K {sk:?} and V {sv:?} do not match Q {sq_:?} (batch, kv heads, kv sequence)"
        ));
    }
    if sk[3] != geo.dq || geo.dq == 0 {
        return Err(format!(
            "Q head size {} and K head size {} must be equal and positive",
            geo.dq, sk[3]
        ));
    }
    if geo.hkv == 0 || !geo.hq.is_multiple_of(geo.hkv) {
        return Err(format!(
            "query heads {} must be a multiple of the key/value heads {}",
            geo.hq, geo.hkv
        ));
    }
    let bias = build_bias(
        mask,
        &geo,
        cfg.causal.then_some(past_len),
        nonpad.as_deref(),
    )?;
    let scale = cfg.scale.unwrap_or(1.0 / (geo.dq as f64).sqrt());
    let compute = if dtype == BurnDType::F64 {
        BurnDType::F64
    } else {
        BurnDType::F32
    };
    let cast = |t: &FlexTensor| {
        if t.dtype() == compute {
            t.clone()
        } else {
            B::float_cast(t.clone(), compute.into())
        }
    };
    let (qc, kc, vc) = (cast(&q), cast(&k), cast(&v));
    let bias_t = bias.as_ref().map(|b| {
        let t = upload_f32(b.data.clone(), vec![b.bb, b.bh, geo.sq, geo.skv]);
        if compute == BurnDType::F32 {
            t
        } else {
            B::float_cast(t, compute.into())
        }
    });
    let qk = cfg
        .want_qk
        .then(|| qk_output(cfg, &geo, &qc, &kc, bias.as_ref(), scale, dtype))
        .transpose()?;
    let options = AttentionModuleOptions {
        scale: Some(scale),
        softcap: cfg.softcap,
        is_causal: false,
    };
    let mut y = B::attention(qc, kc, vc, None, bias_t, options);
    if y.dtype() != dtype {
        y = B::float_cast(y, dtype.into());
    }
    if rank == 3 {
        let dv = sv[3];
        let t = B::float_swap_dims(y, 1, 2);
        y = B::float_reshape(t, Shape::from(vec![geo.batch, geo.sq, geo.hq * dv]));
    }
    let mut outs = vec![Value::Float(y), Value::Float(k), Value::Float(v)];
    outs.extend(qk.map(Value::Float));
    Ok(outs)
}

/// `cat([past, new], seq axis)` after checking that `past` is 4-D and matches `new`.
fn concat_cache(
    past: FlexTensor,
    new: FlexTensor,
    what: &str,
    new_name: &str,
) -> Result<FlexTensor, String> {
    let (sp, sn) = (dims(&past), dims(&new));
    if sp.len() != 4 || sp[0] != sn[0] || sp[1] != sn[1] || sp[3] != sn[3] {
        return Err(format!(
            "`{what}` of shape {sp:?} does not match {new_name} of shape {sn:?}"
        ));
    }
    if past.dtype() != new.dtype() {
        return Err(format!(
            "`{what}` is {:?}, {new_name} is {:?}",
            past.dtype(),
            new.dtype()
        ));
    }
    check_numel(&[sp[0], sp[1], sp[2].saturating_add(sn[2]), sp[3]])?;
    Ok(B::float_cat(vec![past, new], 2))
}

/// The mask as additive values (`-inf` for a false boolean) and its shape lifted to 4-D.
fn mask_values(mask: Value) -> Result<(Vec<f32>, [usize; 4]), String> {
    let shape = mask.shape();
    if shape.len() > 4 {
        return Err(format!(
            "`attn_mask` must have rank 2 to 4, found {shape:?}"
        ));
    }
    let mut s4 = [1; 4];
    s4[4 - shape.len()..].copy_from_slice(&shape);
    let values = match mask {
        Value::Bool(_) => match mask.host()?.data {
            Buffer::Bool(b) => b
                .into_iter()
                .map(|keep| if keep { 0.0 } else { f32::NEG_INFINITY })
                .collect(),
            _ => return Err("`attn_mask` could not be read as booleans".into()),
        },
        Value::Float(t) => f32s(&t)?.into_owned(),
        _ => return Err("`attn_mask` must be bool or float".into()),
    };
    Ok((values, s4))
}

/// Mask, causal triangle (`causal` holds the past length it is shifted by) and key padding
/// as one additive bias; `None` when there is nothing to add.
fn build_bias(
    mask: Option<Value>,
    g: &Geo,
    causal: Option<usize>,
    nonpad: Option<&[i64]>,
) -> Result<Option<Bias>, String> {
    if mask.is_none() && causal.is_none() && nonpad.is_none() {
        return Ok(None);
    }
    let mask = mask.map(mask_values).transpose()?;
    if let Some((_, m)) = &mask {
        let fits = |d: usize, full: usize| d == 1 || d == full;
        if !fits(m[0], g.batch) || !fits(m[1], g.hq) || !fits(m[2], g.sq) || m[3] > g.skv {
            return Err(format!(
                "`attn_mask` of shape {m:?} does not broadcast to [{}, {}, {}, {}]",
                g.batch, g.hq, g.sq, g.skv
            ));
        }
    }
    if let Some(n) = nonpad
        && n.len() != g.batch
    {
        return Err(format!(
            "`nonpad_kv_seqlen` has {} values for batch {}",
            n.len(),
            g.batch
        ));
    }
    let m = mask.as_ref().map_or([1; 4], |(_, m)| *m);
    let bb = if nonpad.is_some() { g.batch } else { m[0] };
    let bh = m[1];
    let mut data = vec![0.0; check_numel(&[bb, bh, g.sq, g.skv])?];
    rows_mut(&mut data, g.skv, |r, row| {
        let (i, h, b) = (r % g.sq, (r / g.sq) % bh, r / (g.sq * bh));
        if let Some((values, m)) = &mask {
            let base = (((b % m[0]) * m[1] + h % m[1]) * m[2] + i % m[2]) * m[3];
            row[..m[3]].copy_from_slice(&values[base..base + m[3]]);
            row[m[3]..].fill(f32::NEG_INFINITY);
        }
        if let Some(past) = causal {
            let first = (i + past + 1).min(row.len());
            row[first..].fill(f32::NEG_INFINITY);
        }
        if let Some(n) = nonpad {
            let valid = usize::try_from(n[b].max(0)).unwrap_or(0).min(row.len());
            row[valid..].fill(f32::NEG_INFINITY);
        }
    });
    Ok(Some(Bias { data, bb, bh }))
}

/// `qk_matmul_output`: the scaled scores (mode 0), after softcap (1), after the bias (2) or
/// after the softmax (3), `[batch, q heads, q seq, kv seq]` in the inputs' element type.
fn qk_output(
    cfg: &Config,
    g: &Geo,
    q: &FlexTensor,
    k: &FlexTensor,
    bias: Option<&Bias>,
    scale: f64,
    dtype: BurnDType,
) -> Result<FlexTensor, String> {
    let rep = g.hq / g.hkv;
    check_numel(&[g.batch, g.hq, g.sq, g.skv])?;
    let grouped = B::float_reshape(
        q.clone(),
        Shape::from(vec![g.batch, g.hkv, rep * g.sq, g.dq]),
    );
    let scores = B::float_matmul(grouped, B::float_transpose(k.clone()));
    let mut s = f32s(&scores)?.into_owned();
    let scale = scale as f32;
    let cap = cfg.softcap.filter(|_| cfg.mode >= 1).map(|c| c as f32);
    let mode = cfg.mode;
    rows_mut(&mut s, g.skv, |r, row| {
        let (i, h, b) = (r % g.sq, (r / g.sq) % g.hq, r / (g.sq * g.hq));
        row.iter_mut().for_each(|x| *x *= scale);
        if let Some(c) = cap {
            row.iter_mut().for_each(|x| *x = c * (*x / c).tanh());
        }
        if mode >= 2
            && let Some(bias) = bias
        {
            let base = (((b % bias.bb) * bias.bh + h % bias.bh) * g.sq + i) * g.skv;
            row.iter_mut()
                .zip(&bias.data[base..base + g.skv])
                .for_each(|(x, &a)| *x += a);
        }
        if mode == 3 {
            softmax_row(row);
        }
    });
    Ok(upload(s, vec![g.batch, g.hq, g.sq, g.skv], dtype))
}

/// In-place softmax of one row (`NaN`s for a row that is all `-inf`, as the reference gives).
fn softmax_row(row: &mut [f32]) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let mut sum = 0.0f64;
    for x in row.iter_mut() {
        *x = (*x - max).exp();
        sum += f64::from(*x);
    }
    let inv = (1.0 / sum) as f32;
    row.iter_mut().for_each(|x| *x *= inv);
}
