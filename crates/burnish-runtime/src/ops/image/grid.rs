//! `GridSample` (any number of spatial dims; nearest, linear, cubic; zeros, border, reflection
//! padding) and `AffineGrid` (2-D and 3-D).

use super::host::{float_value, host_float};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

#[derive(Clone, Copy, PartialEq)]
enum Interp {
    Nearest,
    Linear,
    Cubic,
}

#[derive(Clone, Copy, PartialEq)]
enum Padding {
    Zeros,
    Border,
    Reflection,
}

/// Reflects `x` into `[lo, hi]` by bouncing off the nearer border.
fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    let range = hi - lo;
    if range <= 0.0 || !x.is_finite() {
        return lo;
    }
    let (dx, from_lo) = if x < lo {
        (lo - x, true)
    } else if x > hi {
        (x - hi, false)
    } else {
        return x;
    };
    let n = (dx / range).floor();
    let r = dx - n * range;
    if (n % 2.0 == 0.0) == from_lo {
        lo + r
    } else {
        hi - r
    }
}

/// Keys' cubic convolution weights (A = -0.75) of the four taps around a fraction `t`.
fn cubic_weights(t: f64, a: f64) -> [f64; 4] {
    let near = |x: f64| ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// Geometry shared by every output point of one `GridSample` call.
struct Sampler {
    dims: Vec<usize>,
    interp: Interp,
    padding: Padding,
    align: bool,
}

impl Sampler {
    fn bounds(&self, d: usize) -> (f64, f64) {
        let len = self.dims[d] as f64;
        if self.align {
            (0.0, len - 1.0)
        } else {
            (-0.5, len - 0.5)
        }
    }

    /// The source position of normalized coordinate `g` along spatial dim `d`.
    fn coordinate(&self, g: f64, d: usize) -> f64 {
        let len = self.dims[d] as f64;
        let mut x = if self.align {
            (g + 1.0) / 2.0 * (len - 1.0)
        } else {
            ((g + 1.0) * len - 1.0) / 2.0
        };
        if self.interp == Interp::Nearest {
            x = x.round_ties_even();
        }
        let (lo, hi) = self.bounds(d);
        if x < lo || x > hi {
            x = match self.padding {
                Padding::Border => x.clamp(0.0, len - 1.0),
                Padding::Reflection => reflect(x, lo, hi),
                Padding::Zeros => x,
            };
        }
        x
    }

    /// The in-range index of integer position `i` along dim `d`, `None` for a zero pixel.
    fn index(&self, i: f64, d: usize) -> Option<usize> {
        let len = self.dims[d] as f64;
        let i = match self.padding {
            Padding::Zeros => i,
            Padding::Border => i.clamp(0.0, len - 1.0),
            Padding::Reflection => {
                let (lo, hi) = self.bounds(d);
                reflect(i, lo, hi).trunc()
            }
        };
        (i >= 0.0 && i < len).then_some(i as usize)
    }

    /// Per spatial dim, the `(index, weight)` taps of one point at source position `x`.
    fn taps(&self, x: f64, d: usize) -> Vec<(Option<usize>, f64)> {
        match self.interp {
            Interp::Nearest => vec![(self.index(x.trunc(), d), 1.0)],
            Interp::Linear => {
                let i0 = x.floor();
                let t = x - i0;
                vec![(self.index(i0, d), 1.0 - t), (self.index(i0 + 1.0, d), t)]
            }
            Interp::Cubic => {
                let i0 = x.floor();
                let w = cubic_weights(x - i0, -0.75);
                (0..4)
                    .map(|k| (self.index(i0 + k as f64 - 1.0, d), w[k]))
                    .collect()
            }
        }
    }
}

/// `GridSample(X, grid)`: `X` is `[N, C, D1..Dr]`, `grid` `[N, O1..Or, r]` with the
/// coordinates of the last spatial dim first.
pub fn grid_sample(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let interp = match ctx.string("mode", "linear")?.as_str() {
        "nearest" => Interp::Nearest,
        "linear" | "bilinear" => Interp::Linear,
        "cubic" | "bicubic" => Interp::Cubic,
        other => return Err(format!("GridSample mode `{other}` is not supported")),
    };
    let padding = match ctx.string("padding_mode", "zeros")?.as_str() {
        "zeros" => Padding::Zeros,
        "border" => Padding::Border,
        "reflection" => Padding::Reflection,
        other => {
            return Err(format!(
                "GridSample padding_mode `{other}` is not supported"
            ));
        }
    };
    let align = ctx.int("align_corners", 0)? != 0;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "X")?;
        let grid = host_float(&ins.take(1)?, "grid")?;
        let (xs, gs) = (&x.shape, &grid.shape);
        let r = xs.len().saturating_sub(2);
        if r == 0 || gs.len() != r + 2 || gs[0] != xs[0] || gs[r + 1] != r {
            return Err(format!(
                "GridSample X {xs:?} and grid {gs:?} do not fit (grid must be [N, O1..Or, {r}])"
            ));
        }
        let s = Sampler {
            dims: xs[2..].to_vec(),
            interp,
            padding,
            align,
        };
        let (n, c) = (xs[0], xs[1]);
        let points: usize = gs[1..=r].iter().product();
        let plane: usize = s.dims.iter().product();
        let mut shape = vec![n, c];
        shape.extend_from_slice(&gs[1..=r]);
        let mut out = vec![0f64; check_numel(&shape)?];
        let mut taps = Vec::new();
        for b in 0..n {
            for p in 0..points {
                let g = &grid.data[(b * points + p) * r..(b * points + p + 1) * r];
                let per_dim: Vec<_> = (0..r)
                    .map(|d| s.taps(s.coordinate(g[r - 1 - d], d), d))
                    .collect();
                taps.clear();
                combine(&per_dim, &s.dims, &mut taps);
                for ch in 0..c {
                    let src = &x.data[(b * c + ch) * plane..(b * c + ch + 1) * plane];
                    out[(b * c + ch) * points + p] =
                        taps.iter().map(|&(i, w)| src[i] * w).sum::<f64>();
                }
            }
        }
        Ok(vec![float_value(out, shape, x.dtype)?])
    })
}

/// The tensor product of per-dim taps as `(flat index, weight)`, zero pixels dropped.
fn combine(per_dim: &[Vec<(Option<usize>, f64)>], dims: &[usize], out: &mut Vec<(usize, f64)>) {
    let mut counter = vec![0usize; per_dim.len()];
    loop {
        let mut flat = Some(0usize);
        let mut w = 1.0;
        for (d, &k) in counter.iter().enumerate() {
            let (i, wd) = per_dim[d][k];
            flat = flat.zip(i).map(|(f, i)| f * dims[d] + i);
            w *= wd;
        }
        if let Some(f) = flat {
            out.push((f, w));
        }
        let mut d = per_dim.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            counter[d] += 1;
            if counter[d] < per_dim[d].len() {
                break;
            }
            counter[d] = 0;
        }
    }
}

/// `AffineGrid(theta, size)`: the sampling grid `[N, (D,) H, W, r]` of affine matrices `theta`
/// (`[N, 2, 3]` or `[N, 3, 4]`) over a normalized `[-1, 1]` grid.
pub fn affine_grid(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let align = ctx.int("align_corners", 0)? != 0;
    op(move |mut ins| {
        let theta = host_float(&ins.take(0)?, "theta")?;
        let size = ins.take(1)?.host_i64()?;
        let r = size.len().saturating_sub(2);
        let ts = &theta.shape;
        if !(2..=3).contains(&r) || ts.len() != 3 || ts[1] != r || ts[2] != r + 1 {
            return Err(format!(
                "AffineGrid theta {ts:?} does not fit size {size:?} (2-D or 3-D)"
            ));
        }
        if size.iter().any(|&v| v < 0) || size[0] as usize != ts[0] {
            return Err(format!(
                "AffineGrid size {size:?} does not fit theta {ts:?}"
            ));
        }
        let dims: Vec<usize> = size[2..].iter().map(|&v| v as usize).collect();
        let axis = |len: usize| -> Vec<f64> {
            (0..len)
                .map(|i| {
                    if align {
                        if len > 1 {
                            -1.0 + 2.0 * i as f64 / (len - 1) as f64
                        } else {
                            -1.0
                        }
                    } else {
                        -1.0 + (2 * i + 1) as f64 / len as f64
                    }
                })
                .collect()
        };
        let lines: Vec<Vec<f64>> = dims.iter().map(|&l| axis(l)).collect();
        let mut shape = vec![ts[0]];
        shape.extend_from_slice(&dims);
        shape.push(r);
        let mut out = Vec::with_capacity(check_numel(&shape)?);
        let points: usize = dims.iter().product();
        for b in 0..ts[0] {
            let th = &theta.data[b * r * (r + 1)..(b + 1) * r * (r + 1)];
            for p in 0..points {
                let mut rest = p;
                let mut homo = vec![1.0; r + 1];
                for d in (0..r).rev() {
                    homo[r - 1 - d] = lines[d][rest % dims[d]];
                    rest /= dims[d];
                }
                for row in th.chunks_exact(r + 1) {
                    out.push(row.iter().zip(&homo).map(|(a, b)| a * b).sum());
                }
            }
        }
        Ok(vec![float_value(out, shape, theta.dtype)?])
    })
}
