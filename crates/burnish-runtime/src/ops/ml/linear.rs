//! `LinearRegressor`, `LinearClassifier`, `Normalizer` and `Scaler` (ai.onnx.ml opset 1), with
//! onnxruntime's conventions (float outputs, binary classifiers widened to two score columns).

use burnish_model::{AttrExt, Buffer, TensorData};

use super::tree::{Post, rows};
use super::tree_legacy::expand_binary;
use super::upload;
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// `X W^T + b` for every row of `x` (`[n, f]`), `W` being `[k, f]`; `None` when `W` does not
/// have a multiple of `f` elements.
fn affine(x: &[f64], n: usize, f: usize, w: &[f32], b: &[f32]) -> Option<(usize, Vec<f64>)> {
    if f == 0 || !w.len().is_multiple_of(f) {
        return None;
    }
    let k = w.len() / f;
    let mut out = Vec::with_capacity(n * k);
    for r in 0..n {
        let row = &x[r * f..(r + 1) * f];
        for (j, wj) in w.chunks(f).enumerate() {
            let dot: f64 = row.iter().zip(wj).map(|(&a, &c)| a * c as f64).sum();
            out.push(dot + b.get(j).copied().unwrap_or(0.0) as f64);
        }
    }
    Some((k, out))
}

fn coefficients(ctx: &BuildCtx, op: &str) -> Result<Vec<f32>, String> {
    ctx.floats("coefficients")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("{op} needs coefficients"))
}

/// `LinearRegressor`: `X W^T + intercepts`, `targets` outputs per row.
pub fn linear_regressor(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let w = coefficients(ctx, "LinearRegressor")?;
    let b = ctx.floats("intercepts")?.unwrap_or_default();
    let targets = ctx.int("targets", 1)?;
    let post = Post::from_name(&ctx.string("post_transform", "NONE")?)?;
    if targets < 1 || w.len() % targets as usize != 0 {
        return Err(format!(
            "LinearRegressor: {} coefficients for {targets} targets",
            w.len()
        ));
    }
    if !b.is_empty() && b.len() != targets as usize {
        return Err(format!(
            "LinearRegressor: {} intercepts for {targets} targets",
            b.len()
        ));
    }
    op(move |mut ins| {
        let (n, f, x) = rows(&ins.take(0)?.host()?, "LinearRegressor")?;
        let (k, mut y) = affine(&x, n, f, &w, &b)
            .filter(|(k, _)| *k as i64 == targets)
            .ok_or_else(|| {
                format!(
                    "LinearRegressor: {} coefficients do not fit {f} features",
                    w.len()
                )
            })?;
        if k > 1 || post == Post::Probit {
            y.chunks_mut(k).for_each(|r| post.apply(r));
        }
        Ok(vec![upload(
            vec![n, k],
            Buffer::F32(y.into_iter().map(|v| v as f32).collect()),
        )?])
    })
}

/// `LinearClassifier`: scores `X W^T + intercepts` (one class per intercept), labels by
/// arg-max, or by the sign of a single score.
pub fn linear_classifier(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let w = coefficients(ctx, "LinearClassifier")?;
    let b = ctx.floats("intercepts")?.unwrap_or_default();
    let post = Post::from_name(&ctx.string("post_transform", "NONE")?)?;
    let names = ctx
        .attrs()
        .strings_opt("classlabels_strings")
        .map_err(|e| e.0)?;
    let ids = ctx.ints("classlabels_ints")?;
    let n_labels = names
        .as_ref()
        .map(Vec::len)
        .or(ids.as_ref().map(Vec::len))
        .unwrap_or(0);
    let classes = b.len();
    if classes == 0 || w.len() % classes != 0 {
        return Err(format!(
            "LinearClassifier: {} coefficients for {classes} intercepts",
            w.len()
        ));
    }
    if classes > 1 && n_labels < classes {
        return Err(format!(
            "LinearClassifier has {n_labels} labels for {classes} classes"
        ));
    }
    let second = classes == 1 && n_labels == 2;
    op(move |mut ins| {
        let (n, f, x) = rows(&ins.take(0)?.host()?, "LinearClassifier")?;
        if f * classes != w.len() {
            return Err(format!(
                "LinearClassifier: {} coefficients do not fit {f} features",
                w.len()
            ));
        }
        let (_, s) = affine(&x, n, f, &w, &b).ok_or("LinearClassifier: coefficients do not fit")?;
        let label: Vec<usize> = if classes == 1 {
            s.iter().map(|&v| (v > 0.0) as usize).collect()
        } else {
            s.chunks(classes)
                .map(|r| (1..classes).fold(0, |m, j| if r[j] > r[m] { j } else { m }))
                .collect()
        };
        let width = if second { 2 } else { classes };
        let mut z = Vec::with_capacity(check_numel(&[n, width])?);
        for r in s.chunks(classes) {
            let mut r = r.to_vec();
            if second {
                z.extend(expand_binary(r[0], 1, post));
                continue;
            }
            if classes > 1 || post == Post::Probit {
                post.apply(&mut r);
            }
            z.extend(r);
        }
        let y = match (&names, &ids) {
            (Some(v), _) if classes > 1 || v.len() == 2 => {
                Buffer::String(label.iter().map(|&l| v[l].clone()).collect())
            }
            (Some(_), _) => Buffer::String(label.iter().map(|l| l.to_string()).collect()),
            (None, Some(v)) if classes > 1 || v.len() == 2 => {
                Buffer::I64(label.iter().map(|&l| v[l]).collect())
            }
            _ => Buffer::I64(label.iter().map(|&l| l as i64).collect()),
        };
        let y = TensorData::new(vec![n], y).map_err(|e| e.to_string())?;
        Ok(vec![
            Value::upload(&y)?,
            upload(
                vec![n, width],
                Buffer::F32(z.into_iter().map(|v| v as f32).collect()),
            )?,
        ])
    })
}

/// `Normalizer`: each row divided by its maximum (`MAX`), L1 norm or L2 norm; rows whose
/// divisor is zero are copied. Output is float.
pub fn normalizer(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let norm = ctx.string("norm", "MAX")?;
    if !matches!(norm.as_str(), "MAX" | "L1" | "L2") {
        return Err(format!("Normalizer norm `{norm}` is not MAX, L1 or L2"));
    }
    op(move |mut ins| {
        let t = ins.take(0)?.host()?;
        if t.shape.len() > 2 {
            return Err(format!(
                "Normalizer input must have rank 1 or 2, found {:?}",
                t.shape
            ));
        }
        let (_, f, x) = rows(&t, "Normalizer")?;
        let x: Vec<f32> = x.into_iter().map(|v| v as f32).collect();
        let mut y = Vec::with_capacity(x.len());
        for r in x.chunks(f.max(1)) {
            let d = match norm.as_str() {
                "MAX" => r.iter().fold(f32::MIN, |m, &v| m.max(v)),
                "L1" => r.iter().map(|v| v.abs()).sum(),
                _ => r.iter().map(|v| v * v).sum(),
            };
            if d == 0.0 {
                y.extend_from_slice(r);
            } else if norm == "L2" {
                y.extend(r.iter().map(|&v| {
                    (v * v / d)
                        .sqrt()
                        .copysign(if v < 0.0 { -1.0 } else { 1.0 })
                }));
            } else {
                y.extend(r.iter().map(|&v| v / d));
            }
        }
        Ok(vec![upload(t.shape.clone(), Buffer::F32(y))?])
    })
}

/// `Scaler`: `(x - offset) * scale`, with one value or one per feature (last axis).
pub fn scaler(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let offset = ctx.floats("offset")?.unwrap_or_default();
    let scale = ctx.floats("scale")?.unwrap_or_default();
    op(move |mut ins| {
        let t = ins.take(0)?.host()?;
        let (_, f, x) = rows(&t, "Scaler")?;
        let pick = |v: &[f32], i: usize, what: &str, dflt: f32| -> Result<f32, String> {
            match v.len() {
                0 => Ok(dflt),
                1 => Ok(v[0]),
                l if l == f => Ok(v[i % f.max(1)]),
                l => Err(format!("Scaler has {l} {what} values for {f} features")),
            }
        };
        let y =
            x.iter()
                .enumerate()
                .map(|(i, &v)| {
                    Ok(((v as f32) - pick(&offset, i, "offset", 0.0)?)
                        * pick(&scale, i, "scale", 1.0)?)
                })
                .collect::<Result<Vec<f32>, String>>()?;
        Ok(vec![upload(t.shape.clone(), Buffer::F32(y))?])
    })
}
