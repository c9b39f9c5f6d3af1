//! `Resize` (opset 10+) and `Upsample`: nearest, linear and cubic (`cubic_coeff_a`,
//! `exclude_outside`), antialiasing, every coordinate transformation mode including
//! `tf_crop_and_resize` (`roi`, `extrapolation_value`), `axes` and `keep_aspect_ratio_policy`.
//! Computed on the host, one axis at a time (every mode is separable), in f32.

mod taps;

use taps::{AxisPlan, Interp, Mode, Taps, plan};

use super::util::{axis, dims, float, host_f32, upload_f32};
use super::{BuildCtx, Op, op};
use crate::value::Value;

/// Everything a `Resize` node fixes at build time.
#[derive(Clone)]
struct Spec {
    mode: Mode,
    axes: Option<Vec<i64>>,
    policy: String,
    extrapolation: f32,
}

/// Resamples axis `d` of `data` (shape `shape`) along `t`.
fn resample_axis(data: &[f32], shape: &[usize], d: usize, t: &Taps, fill: f32) -> Vec<f32> {
    let outer: usize = shape[..d].iter().product();
    let inner: usize = shape[d + 1..].iter().product();
    let (in_len, out_len) = (shape[d], t.outside.len());
    let mut out = vec![0f32; outer * out_len * inner];
    if inner == 1 && t.n == 1 && in_len > 0 {
        for (src, dst) in data.chunks_exact(in_len).zip(out.chunks_exact_mut(out_len)) {
            for ((y, &i), &outside) in dst.iter_mut().zip(&t.idx).zip(&t.outside) {
                *y = if outside { fill } else { src[i] };
            }
        }
        return out;
    }
    for o in 0..outer {
        let src = &data[o * in_len * inner..(o + 1) * in_len * inner];
        let dst = &mut out[o * out_len * inner..(o + 1) * out_len * inner];
        for (k, row) in dst.chunks_exact_mut(inner.max(1)).enumerate().take(out_len) {
            let (idx, w) = (&t.idx[k * t.n..(k + 1) * t.n], &t.w[k * t.n..(k + 1) * t.n]);
            if t.outside[k] {
                row.fill(fill);
            } else if t.n == 1 {
                row.copy_from_slice(&src[idx[0] * inner..(idx[0] + 1) * inner]);
            } else if t.n == 2 {
                let (a, b) = (
                    &src[idx[0] * inner..(idx[0] + 1) * inner],
                    &src[idx[1] * inner..(idx[1] + 1) * inner],
                );
                for ((y, &p), &q) in row.iter_mut().zip(a).zip(b) {
                    *y = p * w[0] + q * w[1];
                }
            } else {
                row.fill(0.0);
                for (&i, &wi) in idx.iter().zip(w) {
                    for (y, &p) in row.iter_mut().zip(&src[i * inner..(i + 1) * inner]) {
                        *y += p * wi;
                    }
                }
            }
        }
    }
    out
}

/// Nearest resizing of at most the last two axes (the 2x upsampling of FPN and YOLO necks) in
/// one pass per plane, when every output reads an input value: each output row gathers its
/// columns from one input row, and a row with the same source row as the one before is a copy
/// of it. `None` when `steps` (resized axes and their taps) do not fit.
fn nearest_planes(
    data: &[f32],
    shape: &[usize],
    steps: &[(usize, Option<Taps>)],
) -> Option<Vec<f32>> {
    let r = shape.len();
    let single = |t: &Taps| t.n == 1 && !t.outside.contains(&true);
    if r < 2 || steps.is_empty() {
        return None;
    }
    let (h, w) = (shape[r - 2], shape[r - 1]);
    let mut rows: Vec<usize> = (0..h).collect();
    let mut cols: Vec<usize> = (0..w).collect();
    for (d, taps) in steps {
        let t = taps.as_ref().filter(|t| single(t))?;
        match r - d {
            2 => rows = t.idx.clone(),
            1 => cols = t.idx.clone(),
            _ => return None,
        }
    }
    let (oh, ow) = (rows.len(), cols.len());
    let planes = data.len() / (h * w).max(1);
    let mut out = vec![0f32; planes * oh * ow];
    let plane = |(src, dst): (&[f32], &mut [f32])| {
        for (oy, &iy) in rows.iter().enumerate() {
            let (done, row) = dst.split_at_mut(oy * ow);
            let row = &mut row[..ow];
            if oy > 0 && rows[oy - 1] == iy {
                row.copy_from_slice(&done[(oy - 1) * ow..]);
            } else {
                let src = &src[iy * w..(iy + 1) * w];
                row.iter_mut().zip(&cols).for_each(|(y, &ix)| *y = src[ix]);
            }
        }
    };
    let (from, to) = ((h * w).max(1), (oh * ow).max(1));
    if out.len() >= 1 << 15 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        let src = data.par_chunks_exact(from);
        src.zip(out.par_chunks_exact_mut(to)).for_each(plane);
    } else {
        data.chunks_exact(from)
            .zip(out.chunks_exact_mut(to))
            .for_each(plane);
    }
    Some(out)
}

/// Spreads per-axis values given for `axes` over every dim of rank `r` (others: `fill`).
fn spread<T: Copy>(vals: &[T], axes: &[usize], r: usize, fill: impl Fn(usize) -> T) -> Vec<T> {
    let mut out: Vec<T> = (0..r).map(fill).collect();
    for (v, &a) in vals.iter().zip(axes) {
        out[a] = *v;
    }
    out
}

fn run(
    x: Value,
    roi: Option<Vec<f64>>,
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<i64>>,
    spec: &Spec,
) -> Result<Value, String> {
    let t = float(x)?;
    let shape = dims(&t);
    let r = shape.len();
    let axes: Vec<usize> = match &spec.axes {
        Some(a) => a.iter().map(|&v| axis(v, r)).collect::<Result<_, _>>()?,
        None => (0..r).collect(),
    };
    let k = axes.len();
    let (out_shape, scales): (Vec<usize>, Vec<f64>) = match (sizes, scales) {
        (Some(sz), _) if sz.len() == k => {
            if sz.iter().any(|&v| v < 0) {
                return Err(format!("Resize sizes {sz:?} must not be negative"));
            }
            let sz = spread(&sz, &axes, r, |d| shape[d] as i64);
            let mut sc: Vec<f64> = sz
                .iter()
                .zip(&shape)
                .map(|(&o, &i)| o as f64 / i.max(1) as f64)
                .collect();
            let mut out: Vec<usize> = sz.iter().map(|&v| v as usize).collect();
            if spec.policy != "stretch" {
                let pick = axes.iter().map(|&a| sc[a]);
                let s = if spec.policy == "not_larger" {
                    pick.fold(f64::INFINITY, f64::min)
                } else {
                    pick.fold(f64::NEG_INFINITY, f64::max)
                };
                for &a in &axes {
                    sc[a] = s;
                    out[a] = (s * shape[a] as f64 + 0.5) as usize;
                }
            }
            (out, sc)
        }
        (_, Some(sc)) if sc.len() == k => {
            if sc.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
                return Err(format!("Resize scales {sc:?} must be positive"));
            }
            let sc = spread(&sc, &axes, r, |_| 1.0);
            let out = shape
                .iter()
                .zip(&sc)
                .map(|(&i, &s)| (i as f64 * s).floor() as usize)
                .collect();
            (out, sc)
        }
        _ => {
            return Err(format!(
                "Resize needs scales or sizes for all {k} resized dims"
            ));
        }
    };
    super::util::check_numel(&out_shape)?;
    let roi = match roi.filter(|v| !v.is_empty()) {
        Some(v) if v.len() == 2 * k => {
            let starts = spread(&v[..k], &axes, r, |_| 0.0);
            let ends = spread(&v[k..], &axes, r, |_| 1.0);
            Some(starts.into_iter().zip(ends).collect::<Vec<_>>())
        }
        Some(v) => return Err(format!("Resize roi {v:?} does not fit {k} resized dims")),
        None if spec.mode.coord == "tf_crop_and_resize" => {
            return Err("tf_crop_and_resize needs the roi input".into());
        }
        None => None,
    };
    let mut steps = Vec::new();
    for &d in &axes {
        let region = roi.as_ref().map_or((0.0, 1.0), |v| v[d]);
        if out_shape[d] == shape[d] && scales[d] == 1.0 && region == (0.0, 1.0) {
            continue;
        }
        let a = AxisPlan {
            in_len: shape[d],
            out_len: out_shape[d],
            scale: scales[d],
            roi: region,
        };
        let taps = if a.out_len == 0 {
            None
        } else {
            Some(plan(&spec.mode, &a)?)
        };
        steps.push((d, taps));
    }
    let mut data = host_f32(&t)?;
    let mut cur = shape.clone();
    if let Some(y) = nearest_planes(&data, &shape, &steps) {
        data = y;
        cur = out_shape;
    } else {
        for (d, taps) in steps {
            match taps {
                None => data.clear(),
                Some(taps) => data = resample_axis(&data, &cur, d, &taps, spec.extrapolation),
            }
            cur[d] = out_shape[d];
        }
    }
    let y = upload_f32(data, cur);
    let dtype = t.dtype();
    let y = if dtype != burn_backend::DType::F32 {
        use burn_backend::ops::FloatTensorOps;
        crate::value::B::float_cast(y, dtype.into())
    } else {
        y
    };
    Ok(Value::Float(y))
}

fn parse(ctx: &BuildCtx, default_coord: &str) -> Result<Spec, String> {
    let m = ctx.string("mode", "nearest")?;
    let interp = match m.as_str() {
        "nearest" => Interp::Nearest,
        "linear" | "bilinear" | "trilinear" => Interp::Linear,
        "cubic" | "bicubic" => Interp::Cubic(ctx.float("cubic_coeff_a", -0.75)? as f64),
        other => return Err(format!("Resize mode `{other}` is not supported")),
    };
    let coord = ctx.string("coordinate_transformation_mode", default_coord)?;
    let known = [
        "half_pixel",
        "half_pixel_symmetric",
        "pytorch_half_pixel",
        "align_corners",
        "asymmetric",
        "tf_half_pixel_for_nn",
        "tf_crop_and_resize",
    ];
    if !known.contains(&coord.as_str()) {
        return Err(format!(
            "coordinate_transformation_mode `{coord}` is unknown"
        ));
    }
    let policy = ctx.string("keep_aspect_ratio_policy", "stretch")?;
    if !["stretch", "not_larger", "not_smaller"].contains(&policy.as_str()) {
        return Err(format!("keep_aspect_ratio_policy `{policy}` is unknown"));
    }
    Ok(Spec {
        mode: Mode {
            interp,
            coord,
            nearest: ctx.string("nearest_mode", "round_prefer_floor")?,
            exclude_outside: ctx.int("exclude_outside", 0)? != 0,
            antialias: ctx.int("antialias", 0)? != 0,
        },
        axes: ctx.ints("axes")?,
        policy,
        extrapolation: ctx.float("extrapolation_value", 0.0)?,
    })
}

/// `Resize(X, roi?, scales?, sizes?)` (opset 11+), `Resize(X, scales)` (opset 10).
pub fn resize(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let legacy = ctx.opset < 11;
    let spec = parse(ctx, if legacy { "asymmetric" } else { "half_pixel" })?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        if legacy {
            let scales = Some(ins.take(1)?.host_f64()?);
            return Ok(vec![run(x, None, scales, None, &spec)?]);
        }
        let roi = ins.opt(1).map(|v| v.host_f64()).transpose()?;
        let sc = ins
            .opt(2)
            .map(|v| v.host_f64())
            .transpose()?
            .filter(|v| !v.is_empty());
        let sz = ins
            .opt(3)
            .map(|v| v.host_i64())
            .transpose()?
            .filter(|v| !v.is_empty());
        Ok(vec![run(x, roi, sc, sz, &spec)?])
    })
}

/// `Upsample(X, scales)` (deprecated; asymmetric coordinates).
pub fn upsample(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let mut spec = parse(ctx, "asymmetric")?;
    spec.mode.coord = "asymmetric".into();
    spec.mode.nearest = "floor".into();
    let attr = ctx.floats("scales")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let scales = match ins.opt(1) {
            Some(v) => v.host_f64()?,
            None => attr
                .clone()
                .ok_or("Upsample without scales")?
                .iter()
                .map(|&f| f as f64)
                .collect(),
        };
        Ok(vec![run(x, None, Some(scales), None, &spec)?])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass nearest planes equal the axis-by-axis resampling, for upsampling by 2
    /// (repeated rows), downsampling by 3, a non-integer ratio, one axis only and a 3-D input.
    #[test]
    fn nearest_planes_match_the_axis_by_axis_path() {
        let mode = Mode {
            interp: Interp::Nearest,
            coord: "half_pixel".into(),
            nearest: "round_prefer_floor".into(),
            exclude_outside: false,
            antialias: false,
        };
        let cases: [(&[usize], &[usize]); 5] = [
            (&[2, 3, 5, 7], &[2, 3, 10, 14]),
            (&[1, 2, 9, 12], &[1, 2, 3, 4]),
            (&[1, 4, 6, 5], &[1, 4, 11, 8]),
            (&[2, 2, 4, 6], &[2, 2, 4, 13]),
            (&[3, 5, 4], &[3, 10, 8]),
        ];
        for (shape, out) in cases {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| (i * 7 % 31) as f32 - 15.0).collect();
            let r = shape.len();
            let steps: Vec<(usize, Option<Taps>)> = (r - 2..r)
                .filter(|&d| shape[d] != out[d])
                .map(|d| {
                    let a = AxisPlan {
                        in_len: shape[d],
                        out_len: out[d],
                        scale: out[d] as f64 / shape[d] as f64,
                        roi: (0.0, 1.0),
                    };
                    (d, Some(plan(&mode, &a).expect("taps")))
                })
                .collect();
            let (mut want, mut cur) = (data.clone(), shape.to_vec());
            for (d, taps) in &steps {
                want = resample_axis(&want, &cur, *d, taps.as_ref().expect("taps"), 0.0);
                cur[*d] = out[*d];
            }
            let got = nearest_planes(&data, shape, &steps).expect("fits");
            assert_eq!(got, want, "{shape:?} -> {out:?}");
        }
    }
}
