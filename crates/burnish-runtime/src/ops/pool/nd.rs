//! Pooling over any number of spatial dims on the host (in f64): max with its argmax
//! `Indices`, average with or without the padding in the count, and Lp norms. The 1-D and 2-D
//! float pools without indices or dilated averages keep Burn's kernels ([`super`]).

use crate::ops::image::host::{HostFloat, float_value, i64_value};
use crate::ops::pool_int::Axis;
use crate::ops::util::check_numel;
use crate::value::Value;

/// What a window reduces to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reduce {
    /// The maximum (padding never wins).
    Max,
    /// The mean; `include_pad` counts the explicit padding (not the `ceil_mode` overhang).
    Avg {
        /// ONNX `count_include_pad`.
        include_pad: bool,
    },
    /// `(sum |x|^p)^(1/p)`.
    Lp(f64),
}

/// Every output point's window: flat spatial input indices plus the padded-tap count.
struct Windows {
    out: Vec<usize>,
    starts: Vec<usize>,
    idx: Vec<usize>,
    padded: Vec<usize>,
}

/// One axis: per output position, its in-range input positions and its tap count inside the
/// explicit padding.
fn axis_taps(a: &Axis, len: usize, out: usize) -> Vec<(Vec<usize>, usize)> {
    (0..out)
        .map(|o| {
            let mut real = Vec::new();
            let mut padded = 0;
            for k in 0..a.kernel {
                let p = o * a.stride + k * a.dilation;
                if p < a.pads.0 + len + a.pads.1 {
                    padded += 1;
                }
                if let Some(i) = p.checked_sub(a.pads.0).filter(|&i| i < len) {
                    real.push(i);
                }
            }
            (real, padded)
        })
        .collect()
}

fn windows(spatial: &[usize], axes: &[Axis], ceil: bool) -> Result<Windows, String> {
    let out = spatial
        .iter()
        .zip(axes)
        .map(|(&len, a)| a.output(len, ceil))
        .collect::<Result<Vec<_>, _>>()?;
    let per_axis: Vec<_> = axes
        .iter()
        .zip(spatial)
        .zip(&out)
        .map(|((a, &len), &o)| axis_taps(a, len, o))
        .collect();
    let points = check_numel(&out)?;
    let kernel: usize = axes.iter().map(|a| a.kernel).product();
    check_numel(&[points, kernel])?;
    let mut w = Windows {
        out,
        starts: Vec::with_capacity(points + 1),
        idx: Vec::new(),
        padded: Vec::with_capacity(points),
    };
    let r = axes.len();
    let mut pos = vec![0usize; r];
    for _ in 0..points {
        w.starts.push(w.idx.len());
        w.padded
            .push((0..r).map(|d| per_axis[d][pos[d]].1).product());
        let lists: Vec<&[usize]> = (0..r).map(|d| per_axis[d][pos[d]].0.as_slice()).collect();
        if lists.iter().all(|l| !l.is_empty()) {
            let mut k = vec![0usize; r];
            'taps: loop {
                w.idx
                    .push((0..r).fold(0, |f, d| f * spatial[d] + lists[d][k[d]]));
                for d in (0..r).rev() {
                    k[d] += 1;
                    if k[d] < lists[d].len() {
                        continue 'taps;
                    }
                    k[d] = 0;
                }
                break;
            }
        }
        for d in (0..r).rev() {
            pos[d] += 1;
            if pos[d] < w.out[d] {
                break;
            }
            pos[d] = 0;
        }
    }
    w.starts.push(w.idx.len());
    Ok(w)
}

/// Column-major position of row-major spatial index `i`.
fn column_major(i: usize, spatial: &[usize]) -> usize {
    let (mut rest, mut out, mut stride) = (i, 0, 1);
    let mut coords = vec![0; spatial.len()];
    for d in (0..spatial.len()).rev() {
        coords[d] = rest % spatial[d].max(1);
        rest /= spatial[d].max(1);
    }
    for (d, &c) in coords.iter().enumerate() {
        out += c * stride;
        stride *= spatial[d];
    }
    out
}

/// Pools `x` (`[N, C, spatial..]`); with `indices` (`Some(storage_order)`) also returns the
/// flat input index of each maximum.
pub(crate) fn pool(
    x: &HostFloat,
    axes: &[Axis],
    ceil: bool,
    kind: Reduce,
    indices: Option<i64>,
) -> Result<Vec<Value>, String> {
    let s = &x.shape;
    if s.len() != axes.len() + 2 {
        return Err(format!(
            "pool input {s:?} does not have {} spatial dims",
            axes.len()
        ));
    }
    let spatial = &s[2..];
    let w = windows(spatial, axes, ceil)?;
    let planes = s[0] * s[1];
    let (in_plane, points) = (spatial.iter().product::<usize>(), w.padded.len());
    let mut shape = s[..2].to_vec();
    shape.extend_from_slice(&w.out);
    let total = check_numel(&shape)?;
    let mut out = Vec::with_capacity(total);
    let mut arg = Vec::with_capacity(if indices.is_some() { total } else { 0 });
    for c in 0..planes {
        let src = &x.data[c * in_plane..(c + 1) * in_plane];
        for p in 0..points {
            let taps = &w.idx[w.starts[p]..w.starts[p + 1]];
            let v = match kind {
                Reduce::Max => {
                    let mut best: Option<usize> = None;
                    for &i in taps {
                        if best.is_none_or(|b| src[i] > src[b]) {
                            best = Some(i);
                        }
                    }
                    if indices.is_some() {
                        let i = best.map_or(0, |b| match indices {
                            Some(1) => column_major(b, spatial),
                            _ => b,
                        });
                        arg.push((c * in_plane + i) as i64);
                    }
                    best.map_or(f64::NEG_INFINITY, |b| src[b])
                }
                Reduce::Avg { include_pad } => {
                    let sum: f64 = taps.iter().map(|&i| src[i]).sum();
                    let n = if include_pad { w.padded[p] } else { taps.len() };
                    sum / n as f64
                }
                Reduce::Lp(pw) => taps
                    .iter()
                    .map(|&i| src[i].abs().powf(pw))
                    .sum::<f64>()
                    .powf(1.0 / pw),
            };
            out.push(v);
        }
    }
    let mut outs = vec![float_value(out, shape.clone(), x.dtype)?];
    if indices.is_some() {
        outs.push(i64_value(arg, shape)?);
    }
    Ok(outs)
}
