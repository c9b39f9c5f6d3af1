//! `Resize` (opset 10+) and `Upsample`: nearest and linear, every coordinate transformation
//! mode but `tf_crop_and_resize`. Computed on the host, one axis at a time (both modes are
//! separable), in f32.

use super::util::{dims, float, host_f32, upload_f32};
use super::{BuildCtx, Op, op};
use crate::value::Value;

#[derive(Clone)]
struct Mode {
    linear: bool,
    coord: String,
    nearest: String,
}

fn source_coord(mode: &Mode, out_i: usize, scale: f64, in_len: usize, out_len: usize) -> f64 {
    let x = out_i as f64;
    // ONNX defines the resized length as `scale * input length`, before flooring.
    let resized = scale * in_len as f64;
    match mode.coord.as_str() {
        "align_corners" if resized > 1.0 => x * (in_len as f64 - 1.0) / (resized - 1.0),
        "align_corners" => 0.0,
        "asymmetric" => x / scale,
        "pytorch_half_pixel" if out_len > 1 => (x + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => 0.0,
        "tf_half_pixel_for_nn" => (x + 0.5) / scale,
        "half_pixel_symmetric" => {
            let adj = out_len as f64 / (scale * in_len as f64);
            let center = in_len as f64 / 2.0;
            let offset = center * (1.0 - adj);
            offset + (x + 0.5) / scale - 0.5
        }
        _ => (x + 0.5) / scale - 0.5,
    }
}

fn nearest_index(mode: &Mode, c: f64, in_len: usize) -> usize {
    let i = match mode.nearest.as_str() {
        "floor" => c.floor(),
        "ceil" => c.ceil(),
        "round_prefer_ceil" => (c + 0.5).floor(),
        _ => {
            if c.fract() == 0.5 || c.fract() == -0.5 {
                c.floor()
            } else {
                c.round()
            }
        }
    };
    i.clamp(0.0, in_len as f64 - 1.0) as usize
}

/// Resamples axis `d` of `data` (shape `shape`) to `out_len`.
fn resample_axis(
    data: &[f32],
    shape: &[usize],
    d: usize,
    out_len: usize,
    scale: f64,
    mode: &Mode,
) -> Vec<f32> {
    let outer: usize = shape[..d].iter().product();
    let inner: usize = shape[d + 1..].iter().product();
    let in_len = shape[d];
    let taps: Vec<(usize, usize, f32)> = (0..out_len)
        .map(|o| {
            let c = source_coord(mode, o, scale, in_len, out_len);
            if mode.linear {
                let c = c.clamp(0.0, in_len as f64 - 1.0);
                let lo = c.floor() as usize;
                let hi = (lo + 1).min(in_len - 1);
                (lo, hi, (c - lo as f64) as f32)
            } else {
                let i = nearest_index(mode, c, in_len);
                (i, i, 0.0)
            }
        })
        .collect();
    let mut out = vec![0f32; outer * out_len * inner];
    for o in 0..outer {
        let src = &data[o * in_len * inner..(o + 1) * in_len * inner];
        let dst = &mut out[o * out_len * inner..(o + 1) * out_len * inner];
        for (k, &(lo, hi, w)) in taps.iter().enumerate() {
            let (a, b) = (
                &src[lo * inner..(lo + 1) * inner],
                &src[hi * inner..(hi + 1) * inner],
            );
            for ((y, &p), &q) in dst[k * inner..(k + 1) * inner].iter_mut().zip(a).zip(b) {
                *y = p + (q - p) * w;
            }
        }
    }
    out
}

fn run(
    x: Value,
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<usize>>,
    mode: &Mode,
) -> Result<Value, String> {
    let t = float(x)?;
    let shape = dims(&t);
    let r = shape.len();
    let (out_shape, scales): (Vec<usize>, Vec<f64>) = match (sizes, scales) {
        (Some(sz), _) if sz.len() == r => {
            let sc = sz
                .iter()
                .zip(&shape)
                .map(|(&o, &i)| o as f64 / i.max(1) as f64)
                .collect();
            (sz, sc)
        }
        (_, Some(sc)) if sc.len() == r => {
            if sc.iter().any(|&s| s <= 0.0) {
                return Err(format!("Resize scales {sc:?} must be positive"));
            }
            let out = shape
                .iter()
                .zip(&sc)
                .map(|(&i, &s)| (i as f64 * s).floor() as usize)
                .collect();
            (out, sc)
        }
        _ => return Err(format!("Resize needs scales or sizes for all {r} dims")),
    };
    super::util::check_numel(&out_shape)?;
    let mut data = host_f32(&t)?;
    let mut cur = shape.clone();
    for d in 0..r {
        if out_shape[d] != cur[d] || scales[d] != 1.0 {
            if cur[d] == 0 {
                return Err("Resize of an empty axis".into());
            }
            data = resample_axis(&data, &cur, d, out_shape[d], scales[d], mode);
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

fn parse_mode(ctx: &BuildCtx, default_coord: &str) -> Result<Mode, String> {
    let m = ctx.string("mode", "nearest")?;
    let linear = match m.as_str() {
        "nearest" => false,
        "linear" | "bilinear" | "trilinear" => true,
        other => return Err(format!("Resize mode `{other}` is not supported")),
    };
    let coord = ctx.string("coordinate_transformation_mode", default_coord)?;
    if coord == "tf_crop_and_resize" {
        return Err("coordinate_transformation_mode tf_crop_and_resize is not supported".into());
    }
    if ctx.int("antialias", 0)? != 0 {
        return Err("Resize with antialias=1 is not supported".into());
    }
    if ctx.node.attrs.contains_key("axes") {
        return Err("Resize with `axes` is not supported".into());
    }
    let aspect = ctx.string("keep_aspect_ratio_policy", "stretch")?;
    if aspect != "stretch" {
        return Err(format!(
            "keep_aspect_ratio_policy `{aspect}` is not supported"
        ));
    }
    Ok(Mode {
        linear,
        coord,
        nearest: ctx.string("nearest_mode", "round_prefer_floor")?,
    })
}

/// `Resize(X, roi?, scales?, sizes?)` (opset 11+), `Resize(X, scales)` (opset 10).
pub fn resize(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let legacy = ctx.opset < 11;
    let mode = parse_mode(ctx, if legacy { "asymmetric" } else { "half_pixel" })?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let (scales, sizes) = if legacy {
            (Some(ins.take(1)?.to_f64_vec()?), None)
        } else {
            let sc = ins
                .opt(2)
                .map(|v| v.to_f64_vec())
                .transpose()?
                .filter(|v| !v.is_empty());
            let sz = ins
                .opt(3)
                .map(|v| v.to_i64_vec())
                .transpose()?
                .filter(|v| !v.is_empty());
            (
                sc,
                sz.map(|v| v.iter().map(|&d| d.max(0) as usize).collect()),
            )
        };
        Ok(vec![run(x, scales, sizes, &mode)?])
    })
}

/// `Upsample(X, scales)` (deprecated; asymmetric coordinates).
pub fn upsample(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let mode = Mode {
        coord: "asymmetric".into(),
        nearest: "floor".into(),
        ..parse_mode(ctx, "asymmetric")?
    };
    let attr = ctx.floats("scales")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let scales = match ins.opt(1) {
            Some(v) => v.to_f64_vec()?,
            None => attr
                .clone()
                .ok_or("Upsample without scales")?
                .iter()
                .map(|&f| f as f64)
                .collect(),
        };
        Ok(vec![run(x, Some(scales), None, &mode)?])
    })
}
