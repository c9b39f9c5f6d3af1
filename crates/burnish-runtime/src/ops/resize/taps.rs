//! Per-axis sampling plans of `Resize`: for each output position, the input positions it reads
//! and their weights (nearest, linear, cubic, with or without antialiasing), or the
//! extrapolation value when `tf_crop_and_resize` samples outside the input.

/// The interpolation mode.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Interp {
    /// One input position per output position.
    Nearest,
    /// Two taps (more with antialiasing).
    Linear,
    /// Four taps (more with antialiasing), Keys' kernel with coefficient `a`.
    Cubic(f64),
}

/// The interpolation attributes of one `Resize` node.
#[derive(Clone, Debug)]
pub(super) struct Mode {
    /// Interpolation.
    pub interp: Interp,
    /// `coordinate_transformation_mode`.
    pub coord: String,
    /// `nearest_mode`.
    pub nearest: String,
    /// `exclude_outside`: taps outside the input get no weight.
    pub exclude_outside: bool,
    /// `antialias`: downsampling widens the linear/cubic filter.
    pub antialias: bool,
}

/// The taps of every output position along one axis: `n` per position.
pub(super) struct Taps {
    /// Taps per output position.
    pub n: usize,
    /// Input positions (clamped into the axis), `n` per output position.
    pub idx: Vec<usize>,
    /// Weights, `n` per output position.
    pub w: Vec<f32>,
    /// Output positions that take the extrapolation value.
    pub outside: Vec<bool>,
}

/// The geometry of one resized axis.
pub(super) struct AxisPlan {
    /// Input length.
    pub in_len: usize,
    /// Output length.
    pub out_len: usize,
    /// Scale factor.
    pub scale: f64,
    /// `(start, end)` of the region of interest (`tf_crop_and_resize`).
    pub roi: (f64, f64),
}

fn source_coord(mode: &Mode, a: &AxisPlan, out_i: usize) -> f64 {
    let x = out_i as f64;
    let (scale, in_len) = (a.scale, a.in_len as f64);
    // ONNX defines the resized length as `scale * input length`, before flooring.
    let resized = scale * in_len;
    match mode.coord.as_str() {
        "align_corners" if resized > 1.0 => x * (in_len - 1.0) / (resized - 1.0),
        "align_corners" => 0.0,
        "asymmetric" => x / scale,
        "pytorch_half_pixel" if a.out_len > 1 => (x + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => 0.0,
        "tf_half_pixel_for_nn" => (x + 0.5) / scale,
        "tf_crop_and_resize" => {
            let (r0, r1) = a.roi;
            let span = if resized == 1.0 {
                (r1 - r0) * (in_len - 1.0) / 2.0
            } else {
                x * (r1 - r0) * (in_len - 1.0) / (resized - 1.0)
            };
            span + r0 * (in_len - 1.0)
        }
        "half_pixel_symmetric" => {
            let adj = a.out_len as f64 / resized;
            let offset = in_len / 2.0 * (1.0 - adj);
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

/// Keys' cubic kernel with coefficient `a` at distance `x`.
fn cubic(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

/// The filter taps around source position `x`: the first input position and the weights.
fn filter(mode: &Mode, x: f64, scale: f64) -> (i64, Vec<f64>) {
    let (support, kernel): (f64, &dyn Fn(f64) -> f64) = match mode.interp {
        Interp::Cubic(a) => (2.0, &move |d| cubic(d, a)),
        _ => (1.0, &|d: f64| (1.0 - d.abs()).max(0.0)),
    };
    let s = if mode.antialias { scale.min(1.0) } else { 1.0 };
    // Taps sit left of `x` first: an integer `x` is treated as ratio 1 from its left neighbour.
    let base = x.ceil() as i64 - 1;
    let n = 2 * ((support / s).ceil() as usize).max(1);
    let start = base - n as i64 / 2 + 1;
    let mut w: Vec<f64> = (0..n)
        .map(|k| kernel(((start + k as i64) as f64 - x) * s))
        .collect();
    if mode.antialias {
        let sum: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= sum);
    }
    (start, w)
}

/// The taps of every output position of axis `a`.
pub(super) fn plan(mode: &Mode, a: &AxisPlan) -> Result<Taps, String> {
    if !(a.scale > 0.0 && a.scale.is_finite()) || a.in_len == 0 {
        return Err(format!(
            "Resize of an axis of {} to scale {}",
            a.in_len, a.scale
        ));
    }
    let n = match mode.interp {
        Interp::Nearest => 1,
        Interp::Linear if !mode.antialias => 2,
        Interp::Cubic(_) if !mode.antialias => 4,
        Interp::Linear => 2 * (1.0 / a.scale.min(1.0)).ceil() as usize,
        Interp::Cubic(_) => 2 * (2.0 / a.scale.min(1.0)).ceil() as usize,
    };
    crate::ops::util::check_numel(&[a.out_len, n])?;
    let mut t = Taps {
        n,
        idx: Vec::with_capacity(a.out_len * n),
        w: Vec::with_capacity(a.out_len * n),
        outside: Vec::with_capacity(a.out_len),
    };
    let last = a.in_len as i64 - 1;
    for o in 0..a.out_len {
        let x = source_coord(mode, a, o);
        t.outside
            .push(mode.coord == "tf_crop_and_resize" && !(0.0..=last as f64).contains(&x));
        if mode.interp == Interp::Nearest {
            t.idx.push(nearest_index(mode, x, a.in_len));
            t.w.push(1.0);
            continue;
        }
        let (start, mut w) = if x.is_finite() {
            filter(mode, x.clamp(-1e15, 1e15), a.scale)
        } else {
            (0, vec![0.0; n])
        };
        w.resize(n, 0.0);
        if mode.exclude_outside {
            for (k, v) in w.iter_mut().enumerate() {
                if !(0..=last).contains(&(start + k as i64)) {
                    *v = 0.0;
                }
            }
            let sum: f64 = w.iter().sum();
            if sum != 0.0 {
                w.iter_mut().for_each(|v| *v /= sum);
            }
        }
        for (k, v) in w.into_iter().enumerate() {
            t.idx
                .push((start + k as i64).clamp(0, last.max(0)) as usize);
            t.w.push(v as f32);
        }
    }
    Ok(t)
}
