//! The `ai.onnx.preview.training` optimizers `Adagrad`, `Adam` and `Momentum`: one update step
//! of every tensor they are given, computed on the host in `f64`.

use burnish_model::AttrExt;

use super::host::{HostFloat, host_float, scalar_f64, upload};
use crate::ops::{BuildCtx, Inputs, Op, op};
use crate::value::Value;

/// The learning rate `R`, the step count `T` and `groups` groups of `n` same-shaped tensors
/// (`X..., G..., ...`) read from the inputs of `op_type`.
#[derive(Debug)]
struct Step {
    r: f64,
    t: i64,
    groups: Vec<Vec<HostFloat>>,
}

fn read_step(mut ins: Inputs, groups: usize, op_type: &str) -> Result<Step, String> {
    let len = ins.len();
    let n = len.saturating_sub(2) / groups;
    if n == 0 || 2 + n * groups != len {
        return Err(format!(
            "{op_type} takes R, T and {groups} groups of equal size, found {len} inputs"
        ));
    }
    let r = scalar_f64(&ins.take(0)?, "R")?;
    let t = match ins.take(1)?.host_i64()?.as_slice() {
        [t] => *t,
        other => return Err(format!("T must hold one element, found {}", other.len())),
    };
    let mut out = Vec::with_capacity(groups);
    for g in 0..groups {
        let mut group = Vec::with_capacity(n);
        for i in 0..n {
            let at = 2 + g * n + i;
            let v = host_float(&ins.take(at)?, &format!("input #{at}"))?;
            if g > 0 && v.shape != out_shape(&out, i) {
                return Err(format!(
                    "input #{at} has shape {:?}, expected {:?} like input #{}",
                    v.shape,
                    out_shape(&out, i),
                    2 + i
                ));
            }
            group.push(v);
        }
        out.push(group);
    }
    Ok(Step { r, t, groups: out })
}

fn out_shape(groups: &[Vec<HostFloat>], i: usize) -> Vec<usize> {
    groups
        .first()
        .and_then(|g| g.get(i))
        .map(|v| v.shape.clone())
        .unwrap_or_default()
}

/// Uploads each group of updated tensors in the dtype and shape of `like`.
fn outputs(updated: Vec<Vec<Vec<f64>>>, like: &[&[HostFloat]]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (group, like) in updated.into_iter().zip(like) {
        for (data, l) in group.into_iter().zip(like.iter()) {
            out.push(upload(l.dtype, l.shape.clone(), data)?);
        }
    }
    Ok(out)
}

fn required(ctx: &BuildCtx, name: &str) -> Result<f64, String> {
    ctx.node
        .attrs
        .float_opt(name)
        .map_err(|e| e.0)?
        .map(f64::from)
        .ok_or_else(|| format!("{} needs the `{name}` attribute", ctx.node.op_type))
}

/// `Adagrad(R, T, X..., G..., H...)` -> `X_new..., H_new...`.
pub(crate) fn adagrad(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let decay = f64::from(ctx.float("decay_factor", 0.0)?);
    let eps = f64::from(ctx.float("epsilon", 1e-6)?);
    let norm = f64::from(ctx.float("norm_coefficient", 0.0)?);
    op(move |ins| {
        let s = read_step(ins, 3, "Adagrad")?;
        let [xs, gs, hs] = &s.groups[..] else {
            return Err("Adagrad needs three groups of inputs".into());
        };
        let rate = s.r / (1.0 + s.t as f64 * decay);
        let (mut new_x, mut new_h) = (Vec::new(), Vec::new());
        for ((x, g), h) in xs.iter().zip(gs).zip(hs) {
            let (mut xo, mut ho) = (Vec::new(), Vec::new());
            for ((&x, &g), &h) in x.data.iter().zip(&g.data).zip(&h.data) {
                let g = norm * x + g;
                let h = h + g * g;
                xo.push(x - rate * g / (h.sqrt() + eps));
                ho.push(h);
            }
            new_x.push(xo);
            new_h.push(ho);
        }
        outputs(vec![new_x, new_h], &[xs, hs])
    })
}

/// `Adam(R, T, X..., G..., V..., H...)` -> `X_new..., V_new..., H_new...`.
pub(crate) fn adam(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = f64::from(ctx.float("alpha", 0.9)?);
    let beta = f64::from(ctx.float("beta", 0.999)?);
    let eps = f64::from(ctx.float("epsilon", 1e-6)?);
    let norm = f64::from(ctx.float("norm_coefficient", 0.0)?);
    let post = f64::from(ctx.float("norm_coefficient_post", 0.0)?);
    op(move |ins| {
        let s = read_step(ins, 4, "Adam")?;
        let [xs, gs, vs, hs] = &s.groups[..] else {
            return Err("Adam needs four groups of inputs".into());
        };
        let rate = if s.t > 0 {
            let t = s.t as f64;
            s.r * (1.0 - beta.powf(t)).sqrt() / (1.0 - alpha.powf(t))
        } else {
            s.r
        };
        let (mut new_x, mut new_v, mut new_h) = (Vec::new(), Vec::new(), Vec::new());
        for (((x, g), v), h) in xs.iter().zip(gs).zip(vs).zip(hs) {
            let (mut xo, mut vo, mut ho) = (Vec::new(), Vec::new(), Vec::new());
            for (((&x, &g), &v), &h) in x.data.iter().zip(&g.data).zip(&v.data).zip(&h.data) {
                let g = norm * x + g;
                let v = alpha * v + (1.0 - alpha) * g;
                let h = beta * h + (1.0 - beta) * g * g;
                xo.push((1.0 - post) * (x - rate * v / (h.sqrt() + eps)));
                vo.push(v);
                ho.push(h);
            }
            new_x.push(xo);
            new_v.push(vo);
            new_h.push(ho);
        }
        outputs(vec![new_x, new_v, new_h], &[xs, vs, hs])
    })
}

/// `Momentum(R, T, X..., G..., V...)` -> `X_new..., V_new...`, in `standard` or `nesterov`
/// mode.
pub(crate) fn momentum(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let alpha = required(ctx, "alpha")?;
    let beta = required(ctx, "beta")?;
    let norm = required(ctx, "norm_coefficient")?;
    let nesterov = match ctx.node.attrs.get("mode") {
        None => return Err("Momentum needs the `mode` attribute".into()),
        Some(_) => match ctx.string("mode", "")?.as_str() {
            "standard" => false,
            "nesterov" => true,
            other => {
                return Err(format!(
                    "Momentum mode `{other}` is not standard or nesterov"
                ));
            }
        },
    };
    op(move |ins| {
        let s = read_step(ins, 3, "Momentum")?;
        let [xs, gs, vs] = &s.groups[..] else {
            return Err("Momentum needs three groups of inputs".into());
        };
        let beta = if s.t > 0 { beta } else { 1.0 };
        let (mut new_x, mut new_v) = (Vec::new(), Vec::new());
        for ((x, g), v) in xs.iter().zip(gs).zip(vs) {
            let (mut xo, mut vo) = (Vec::new(), Vec::new());
            for ((&x, &g), &v) in x.data.iter().zip(&g.data).zip(&v.data) {
                let g = norm * x + g;
                let v = alpha * v + beta * g;
                let step = if nesterov { g + alpha * v } else { v };
                xo.push(x - s.r * step);
                vo.push(v);
            }
            new_x.push(xo);
            new_v.push(vo);
        }
        outputs(vec![new_x, new_v], &[xs, vs])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_model::TensorData;

    fn f32s(v: &[f32]) -> Option<Value> {
        Value::from_data(&TensorData::from_f32(vec![v.len()], v.to_vec())).ok()
    }

    fn scalar(v: f32) -> Option<Value> {
        Value::from_data(&TensorData::from_f32(vec![], vec![v])).ok()
    }

    fn step(t: i64) -> Option<Value> {
        Value::from_data(&TensorData::from_i64(vec![], vec![t])).ok()
    }

    #[test]
    fn mismatched_groups_are_errors() {
        let ins = Inputs::new(vec![scalar(0.1), step(1), f32s(&[1.0]), f32s(&[1.0, 2.0])]);
        assert!(
            read_step(ins, 3, "Adagrad")
                .unwrap_err()
                .contains("4 inputs")
        );
        let ins = Inputs::new(vec![
            scalar(0.1),
            step(1),
            f32s(&[1.0]),
            f32s(&[1.0, 2.0]),
            f32s(&[0.0]),
        ]);
        assert!(read_step(ins, 3, "Adagrad").unwrap_err().contains("shape"));
        let ins = Inputs::new(vec![
            f32s(&[0.1, 0.2]),
            step(1),
            f32s(&[1.0]),
            f32s(&[1.0]),
            f32s(&[0.0]),
        ]);
        assert!(read_step(ins, 3, "Adagrad").unwrap_err().contains("R must"));
    }
}
