//! Layout ops that combine, cut or rearrange tensors: `Concat`, `Split`, `Slice`, `Tile`, `Pad`,
//! `DepthToSpace`, `SpaceToDepth`.

use burn_backend::Slice;
use burn_backend::ops::{BoolTensorOps, FloatTensorOps, IntTensorOps, PadMode};

use super::shape::{cat, permute, slice};
use super::util::axis;
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

/// `Concat(axis)`; empty inputs are skipped.
pub fn concat(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    op(move |ins| {
        let vs = ins.take_all();
        let first = vs.first().ok_or("Concat without inputs")?;
        let r = first.rank();
        let d = axis(a, r)?;
        let base = first.shape();
        for v in &vs {
            let s = v.shape();
            let fits = s.len() == r && (0..r).all(|i| i == d || s[i] == base[i]);
            if !fits && v.numel() > 0 {
                return Err(format!(
                    "Concat inputs {base:?} and {s:?} differ off axis {d}"
                ));
            }
        }
        let mut keep: Vec<Value> = vs.iter().filter(|v| v.numel() > 0).cloned().collect();
        if keep.is_empty() {
            keep.push(vs[0].clone());
        }
        if keep.len() == 1 {
            return Ok(keep);
        }
        Ok(vec![cat(keep, d)?])
    })
}

/// `Split(axis, split | num_outputs)`.
pub fn split(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let a = ctx.int("axis", 0)?;
    let attr = ctx.ints("split")?;
    let n_out = ctx.node.outputs.len();
    let from_input = ctx.opset >= 13;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        let d = axis(a, s.len())?;
        let sizes: Vec<usize> = match if from_input {
            ins.opt(1).map(|v| v.host_i64()).transpose()?
        } else {
            attr.clone()
        } {
            Some(v) => v.iter().map(|&x| x.max(0) as usize).collect(),
            None => {
                let chunk = s[d].div_ceil(n_out.max(1));
                (0..n_out)
                    .map(|i| chunk.min(s[d].saturating_sub(i * chunk)))
                    .collect()
            }
        };
        if sizes.iter().sum::<usize>() != s[d] || sizes.len() != n_out {
            return Err(format!(
                "Split sizes {sizes:?} do not cover dim {d} of {s:?}"
            ));
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(n_out);
        for len in sizes {
            let mut sl: Vec<Slice> = s.iter().map(|&n| Slice::from(0..n)).collect();
            sl[d] = Slice::from(start..start + len);
            out.push(slice(x.clone(), &sl)?);
            start += len;
        }
        Ok(out)
    })
}

/// `Slice(data, starts, ends, axes?, steps?)` (attributes before opset 10), with ONNX clamping;
/// negative steps run on the flipped axis.
pub fn slice_op(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let legacy = ctx.opset < 10;
    let (a_starts, a_ends, a_axes) = (ctx.ints("starts")?, ctx.ints("ends")?, ctx.ints("axes")?);
    op(move |mut ins| {
        let x = ins.take(0)?;
        let (starts, ends, ax, steps) = if legacy {
            (
                a_starts.clone().ok_or("Slice without starts")?,
                a_ends.clone().ok_or("Slice without ends")?,
                a_axes.clone(),
                None,
            )
        } else {
            let get = |v: Option<Value>| v.map(|v| v.host_i64()).transpose();
            (
                ins.take(1)?.host_i64()?,
                ins.take(2)?.host_i64()?,
                get(ins.opt(3))?,
                get(ins.opt(4))?,
            )
        };
        let s = x.shape();
        let r = s.len();
        let ax: Vec<usize> = match ax {
            Some(a) => a.iter().map(|&v| axis(v, r)).collect::<Result<_, _>>()?,
            None => (0..starts.len()).collect(),
        };
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || ax.len() != starts.len() || steps.len() != starts.len() {
            return Err("Slice starts/ends/axes/steps lengths differ".into());
        }
        let mut x = x;
        let mut sl: Vec<Slice> = s.iter().map(|&n| Slice::from(0..n)).collect();
        let mut flip = Vec::new();
        for i in 0..starts.len() {
            let (d, n, step) = (ax[i], s[ax[i]] as i64, steps[i]);
            if step == 0 {
                return Err("Slice step 0".into());
            }
            let norm = |v: i64| if v < 0 { v + n } else { v };
            let (b, e) = (norm(starts[i]), norm(ends[i]));
            let (lo, hi, st) = if step > 0 {
                (b.clamp(0, n), e.clamp(0, n), step)
            } else {
                let b = b.clamp(0, n - 1);
                let e = e.clamp(-1, n - 1);
                flip.push(d);
                (n - 1 - b, n - 1 - e, -step)
            };
            let hi = hi.max(lo);
            sl[d] = Slice::new(lo as isize, Some(hi as isize), st as isize);
        }
        if !flip.is_empty() {
            x = match x {
                Value::Float(t) => Value::Float(B::float_flip(t, &flip)),
                Value::Int(t) => Value::Int(B::int_flip(t, &flip)),
                Value::Bool(t) => Value::Bool(B::bool_flip(t, &flip)),
                other => {
                    return Err(super::util::unsupported_value(
                        "Slice with negative steps",
                        &other,
                    ));
                }
            };
        }
        Ok(vec![slice(x, &sl)?])
    })
}

/// `Tile(input, repeats)`.
pub fn tile(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let mut x = ins.take(0)?;
        let reps = ins.take(1)?.host_i64()?;
        if reps.len() != x.rank() || reps.iter().any(|&r| r < 0) {
            return Err(format!(
                "Tile repeats {reps:?} do not fit rank {}",
                x.rank()
            ));
        }
        let out: Vec<usize> = x
            .shape()
            .iter()
            .zip(&reps)
            .map(|(&d, &r)| d.saturating_mul(r as usize))
            .collect();
        super::util::check_numel(&out)?;
        for (d, &r) in reps.iter().enumerate() {
            if r != 1 {
                let r = r as usize;
                x = match x {
                    Value::Float(t) => Value::Float(B::float_repeat_dim(t, d, r)),
                    Value::Int(t) => Value::Int(B::int_repeat_dim(t, d, r)),
                    Value::Bool(t) => Value::Bool(B::bool_repeat_dim(t, d, r)),
                    other => return Err(super::util::unsupported_value("Tile", &other)),
                };
            }
        }
        Ok(vec![x])
    })
}

/// `Pad` mode `wrap`: each padded axis gathers its positions modulo the axis length.
fn wrap(mut x: Value, pads: &[(usize, usize)]) -> Result<Value, String> {
    let mut s = x.shape();
    for (d, &(a, b)) in pads.iter().enumerate() {
        if a == 0 && b == 0 {
            continue;
        }
        let n = s[d];
        if n == 0 {
            return Err(format!("Pad mode wrap of axis {d}, which is empty"));
        }
        let len = a
            .checked_add(n)
            .and_then(|v| v.checked_add(b))
            .ok_or("Pad pads are too large")?;
        s[d] = len;
        super::util::check_numel(&s)?;
        let idx: Vec<i64> = (0..len).map(|j| ((j + n - a % n) % n) as i64).collect();
        let idx = Value::upload(&burnish_model::TensorData::from_i64(vec![len], idx))?;
        let idx = idx
            .prim()
            .ok_or("Pad indices are not a backend tensor")?
            .clone();
        x = match x {
            Value::Float(t) => Value::Float(B::float_select(t, d, idx)),
            Value::Int(t) => Value::Int(B::int_select(t, d, idx)),
            Value::Bool(t) => Value::Bool(B::bool_select(t, d, idx)),
            other => return Err(super::util::unsupported_value("Pad", &other)),
        };
    }
    Ok(x)
}

/// `Pad(data, pads, constant_value?, axes?)`, modes constant, reflect, edge, wrap; negative
/// pads crop.
pub fn pad(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let mode = ctx.string("mode", "constant")?;
    let legacy = ctx.opset < 11;
    let attr_pads = ctx.ints("pads")?.or(ctx.ints("paddings")?);
    let attr_value = ctx.float("value", 0.0)?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let (pads, value, ax) = if legacy {
            (
                attr_pads.clone().ok_or("Pad without pads")?,
                attr_value as f64,
                None,
            )
        } else {
            let p = ins.take(1)?.host_i64()?;
            let v = match ins.opt(2) {
                Some(v) => *v.host_f64()?.first().unwrap_or(&0.0),
                None => 0.0,
            };
            (p, v, ins.opt(3).map(|v| v.host_i64()).transpose()?)
        };
        let s = x.shape();
        let r = s.len();
        let ax: Vec<usize> = match ax {
            Some(a) => a.iter().map(|&v| axis(v, r)).collect::<Result<_, _>>()?,
            None => (0..r).collect(),
        };
        if pads.len() != 2 * ax.len() {
            return Err(format!("Pad pads {pads:?} do not fit {} axes", ax.len()));
        }
        let mut full = vec![(0i64, 0i64); r];
        for (i, &d) in ax.iter().enumerate() {
            full[d] = (pads[i], pads[i + ax.len()]);
        }
        let mut out_shape = Vec::with_capacity(r);
        for (d, &(a, b)) in full.iter().enumerate() {
            let n = s[d] as i128 + a as i128 + b as i128;
            if n < 0 || n > usize::MAX as i128 {
                return Err(format!("pads {pads:?} do not fit the input shape {s:?}"));
            }
            if mode == "reflect" && (a >= s[d] as i64 || b >= s[d] as i64) && (a > 0 || b > 0) {
                return Err(format!(
                    "reflect pads {pads:?} must be smaller than the input dims {s:?}"
                ));
            }
            out_shape.push(n as usize);
        }
        super::util::check_alloc(&out_shape, x.dtype().size())?;
        let mut x = x;
        if full.iter().any(|&(a, b)| a < 0 || b < 0) {
            let sl: Vec<Slice> = (0..r)
                .map(|d| {
                    let (a, b) = (
                        full[d].0.min(0).unsigned_abs() as usize,
                        full[d].1.min(0).unsigned_abs() as usize,
                    );
                    Slice::from(a..s[d].saturating_sub(b).max(a))
                })
                .collect();
            x = slice(x, &sl)?;
        }
        let pos: Vec<(usize, usize)> = full
            .iter()
            .map(|&(a, b)| (a.max(0) as usize, b.max(0) as usize))
            .collect();
        if pos.iter().all(|&(a, b)| a == 0 && b == 0) {
            return Ok(vec![x]);
        }
        if mode == "wrap" {
            return Ok(vec![wrap(x, &pos)?]);
        }
        let m = match mode.as_str() {
            "constant" => PadMode::Constant(value as f32),
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Edge,
            other => return Err(format!("Pad mode `{other}` is not supported")),
        };
        Ok(vec![match x {
            Value::Float(t) => Value::Float(B::float_pad(t, &pos, m)),
            Value::Int(t) => Value::Int(B::int_pad(t, &pos, m)),
            other => return Err(super::util::unsupported_value("Pad", &other)),
        }])
    })
}

fn blocks(ctx: &BuildCtx, to_space: bool) -> Result<Box<dyn Op>, String> {
    let bs = ctx.int("blocksize", 0)?;
    if bs < 1 {
        return Err(format!("blocksize {bs} must be >= 1"));
    }
    let bs = bs as usize;
    let crd = ctx.string("mode", "DCR")? == "CRD";
    op(move |mut ins| {
        let x = ins.take(0)?;
        let s = x.shape();
        if s.len() != 4 {
            return Err(format!("expected a 4-D input, found {s:?}"));
        }
        let (n, c, h, w) = (s[0], s[1], s[2], s[3]);
        if to_space {
            if c % (bs * bs) != 0 {
                return Err(format!("channels {c} not divisible by blocksize^2"));
            }
            let c2 = c / (bs * bs);
            let (tmp, perm) = if crd {
                (vec![n, c2, bs, bs, h, w], [0, 1, 4, 2, 5, 3])
            } else {
                (vec![n, bs, bs, c2, h, w], [0, 3, 4, 1, 5, 2])
            };
            Ok(vec![permute(x.reshape(&tmp), &perm)?.reshape(&[
                n,
                c2,
                h * bs,
                w * bs,
            ])])
        } else {
            if h % bs != 0 || w % bs != 0 {
                return Err(format!(
                    "spatial dims {h}x{w} not divisible by blocksize {bs}"
                ));
            }
            let tmp = [n, c, h / bs, bs, w / bs, bs];
            let y = permute(x.reshape(&tmp), &[0, 3, 5, 1, 2, 4])?;
            Ok(vec![y.reshape(&[n, c * bs * bs, h / bs, w / bs])])
        }
    })
}

/// `DepthToSpace(blocksize, mode)`.
pub fn depth_to_space(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    blocks(ctx, true)
}

/// `SpaceToDepth(blocksize)`.
pub fn space_to_depth(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    blocks(ctx, false)
}
