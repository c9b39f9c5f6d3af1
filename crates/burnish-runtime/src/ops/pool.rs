//! Pools: `MaxPool`, `AveragePool`, `GlobalAveragePool`, `GlobalMaxPool`.
//!
//! 2-D float32 pools run on burnish's kernels (`burnish_kernels::f32::pool`), other 1-D and
//! 2-D float pools on Burn's; 3-D and larger pools, dilated averages and `MaxPool`'s `Indices`
//! output run on the host ([`nd`]).

pub(crate) mod nd;

use burn_backend::Shape;
use burn_backend::ops::{FloatTensorOps, ModuleOps, PadMode};
use burn_flex::FlexTensor;
use burnish_kernels::f32::pool::{PoolAxis, avg_pool2d, max_pool2d};

use super::conv::Window;
use super::pool_int::{Axis, max_pool_codes};
use super::util::{dims, float};
use super::{BuildCtx, Op, op};
use crate::value::{B, Value};

struct PoolSpec {
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pads: Vec<(usize, usize)>,
}

fn spec(win: &Window, x: &[usize]) -> Result<PoolSpec, String> {
    let n = x.len().saturating_sub(2);
    let kernel: Vec<usize> = match &win.kernel {
        Some(k) if k.len() == n && k.iter().all(|&v| v >= 1) => {
            k.iter().map(|&v| v as usize).collect()
        }
        other => return Err(format!("kernel_shape {other:?} does not fit input {x:?}")),
    };
    Ok(PoolSpec {
        strides: win.strides(n)?,
        dilations: win.dilations(n)?,
        pads: win.padding(&x[2..], &kernel)?,
        kernel,
    })
}

impl PoolSpec {
    /// The per-axis geometry of the host pools.
    fn axes(&self) -> Vec<Axis> {
        (0..self.kernel.len())
            .map(|i| Axis {
                kernel: self.kernel[i],
                stride: self.strides[i],
                dilation: self.dilations[i],
                pads: self.pads[i],
            })
            .collect()
    }
}

/// Parses the pool window of `ctx` and pools `x` on the host ([`nd::pool`]).
pub(crate) fn host_pool(
    win: &Window,
    x: &Value,
    ceil: bool,
    kind: nd::Reduce,
    indices: Option<i64>,
) -> Result<Vec<Value>, String> {
    let p = spec(win, &x.shape())?;
    let h = crate::ops::image::host::host_float(x, "X")?;
    nd::pool(&h, &p.axes(), ceil, kind, indices)
}

fn pad_explicit(x: FlexTensor, pads: &[(usize, usize)], value: f32) -> FlexTensor {
    let mut all = vec![(0, 0), (0, 0)];
    all.extend_from_slice(pads);
    B::float_pad(x, &all, PadMode::Constant(value))
}

fn symmetric(pads: &[(usize, usize)]) -> bool {
    pads.iter().all(|(a, b)| a == b)
}

/// `MaxPool` with its optional `Indices` output (`storage_order` 0: row-major, 1:
/// column-major); u8/i8 codes are pooled as integers ([`super::pool_int`]).
pub fn max_pool(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(ctx)?;
    let ceil = ctx.int("ceil_mode", 0)? != 0;
    let order = ctx.int("storage_order", 0)?;
    if !(0..=1).contains(&order) {
        return Err(format!("MaxPool storage_order {order} must be 0 or 1"));
    }
    let indices = ctx.node.outputs.get(1).is_some_and(|o| !o.is_empty());
    op(move |mut ins| {
        let x = ins.take(0)?;
        if matches!(x, Value::Int(_)) {
            if indices {
                return Err("MaxPool's Indices output needs a float input".into());
            }
            return Ok(vec![max_pool_codes(
                &x,
                &spec(&win, &x.shape())?.axes(),
                ceil,
            )?]);
        }
        if indices || x.rank() > 4 {
            let order = indices.then_some(order);
            return host_pool(&win, &x, ceil, nd::Reduce::Max, order);
        }
        let x = float(x)?;
        let sx = dims(&x);
        let p = spec(&win, &sx)?;
        if sx.len() == 4 && x.dtype() == burn_backend::DType::F32 {
            return Ok(vec![Value::Float(pool_f32(x, &sx, &p, ceil, None)?)]);
        }
        let (x, pad) =
            if symmetric(&p.pads) && p.pads.iter().zip(&p.kernel).all(|(a, k)| a.0 <= k / 2) {
                (x, p.pads.iter().map(|a| a.0).collect::<Vec<_>>())
            } else {
                (
                    pad_explicit(x, &p.pads, f32::NEG_INFINITY),
                    vec![0; p.kernel.len()],
                )
            };
        let y = match p.kernel.len() {
            1 => B::max_pool1d(x, p.kernel[0], p.strides[0], pad[0], p.dilations[0], ceil),
            2 => B::max_pool2d(
                x,
                [p.kernel[0], p.kernel[1]],
                [p.strides[0], p.strides[1]],
                [pad[0], pad[1]],
                [p.dilations[0], p.dilations[1]],
                ceil,
            ),
            n => return Err(format!("MaxPool input needs spatial dims, found {n}")),
        };
        Ok(vec![Value::Float(y)])
    })
}

/// 2-D float32 pooling on [`burnish_kernels::f32::pool`] (implicit padding, any pads,
/// strides, dilations and `ceil_mode`): the maximum, or with `avg` (`count_include_pad`) the
/// average.
fn pool_f32(
    x: FlexTensor,
    sx: &[usize],
    p: &PoolSpec,
    ceil: bool,
    avg: Option<bool>,
) -> Result<FlexTensor, String> {
    let axes = p.axes();
    let geo = |i: usize| -> Result<PoolAxis, String> {
        Ok(PoolAxis {
            input: sx[2 + i],
            output: axes[i].output(sx[2 + i], ceil)?,
            kernel: p.kernel[i],
            stride: p.strides[i],
            dilation: p.dilations[i],
            pad: p.pads[i].0,
            pad_end: p.pads[i].1,
        })
    };
    let (rows, cols) = (geo(0)?, geo(1)?);
    let out_shape = vec![sx[0], sx[1], rows.output, cols.output];
    let planes = sx[0] * sx[1];
    let mut out = vec![0f32; super::util::check_numel(&out_shape)?];
    let x = super::util::dense(x);
    let src = super::util::f32s(&x)?;
    let n: usize = sx.iter().product();
    match avg {
        None => max_pool2d(&src[..n], planes, rows, cols, &mut out),
        Some(include) => avg_pool2d(&src[..n], planes, rows, cols, include, &mut out),
    }
    .ok_or_else(|| format!("pool window {:?} does not fit input {sx:?}", p.kernel))?;
    Ok(super::util::upload_f32(out, out_shape))
}

fn avg(
    x: FlexTensor,
    p: &PoolSpec,
    pad: &[usize],
    include: bool,
    ceil: bool,
) -> Result<FlexTensor, String> {
    if p.dilations.iter().any(|&d| d != 1) {
        return Err("AveragePool with dilations is not supported".into());
    }
    Ok(match p.kernel.len() {
        1 => B::avg_pool1d(x, p.kernel[0], p.strides[0], pad[0], include, ceil),
        2 => B::avg_pool2d(
            x,
            [p.kernel[0], p.kernel[1]],
            [p.strides[0], p.strides[1]],
            [pad[0], pad[1]],
            include,
            ceil,
        ),
        n => {
            return Err(format!(
                "AveragePool with {n} spatial dims is not supported"
            ));
        }
    })
}

/// `AveragePool`; asymmetric padding is applied explicitly, and when padding is excluded from
/// the count the divisor comes from pooling a ones tensor padded the same way.
pub fn average_pool(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(ctx)?;
    let ceil = ctx.int("ceil_mode", 0)? != 0;
    let include = ctx.int("count_include_pad", 0)? != 0;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let p = spec(&win, &x.shape())?;
        if p.kernel.len() > 2 || p.dilations.iter().any(|&d| d != 1) {
            let kind = nd::Reduce::Avg {
                include_pad: include,
            };
            return host_pool(&win, &x, ceil, kind, None);
        }
        let x = float(x)?;
        let sx = dims(&x);
        if sx.len() == 4 && x.dtype() == burn_backend::DType::F32 {
            return Ok(vec![Value::Float(pool_f32(
                x,
                &sx,
                &p,
                ceil,
                Some(include),
            )?)]);
        }
        if symmetric(&p.pads) && p.pads.iter().zip(&p.kernel).all(|(a, k)| a.0 <= k / 2) {
            let pad: Vec<usize> = p.pads.iter().map(|a| a.0).collect();
            return Ok(vec![Value::Float(avg(x, &p, &pad, include, ceil)?)]);
        }
        let zero = vec![0; p.kernel.len()];
        let ones = B::float_ones(
            Shape::from(sx.clone()),
            &crate::value::device(),
            x.dtype().into(),
        );
        let sum = avg(pad_explicit(x, &p.pads, 0.0), &p, &zero, true, ceil)?;
        if include {
            return Ok(vec![Value::Float(sum)]);
        }
        let count = avg(pad_explicit(ones, &p.pads, 0.0), &p, &zero, true, ceil)?;
        Ok(vec![Value::Float(B::float_div(sum, count))])
    })
}

fn global(x: FlexTensor, max: bool) -> Result<FlexTensor, String> {
    let s = dims(&x);
    if s.len() < 3 {
        return Err(format!("global pool needs rank >= 3, found {s:?}"));
    }
    let mut out = vec![s[0], s[1]];
    out.extend(std::iter::repeat_n(1, s.len() - 2));
    if x.dtype() == burn_backend::DType::F32 && s.iter().product::<usize>() > 0 {
        return global_f32(x, &s, out, max);
    }
    let flat = B::float_reshape(x, Shape::from(vec![s[0], s[1], s[2..].iter().product()]));
    let r = if max {
        B::float_max_dim(flat, 2)
    } else {
        B::float_mean_dim(flat, 2)
    };
    Ok(B::float_reshape(r, Shape::from(out)))
}

/// A float32 global pool as the kernels' whole-plane window: each plane reduced in sixteen
/// lanes, planes across threads when large (magika's max over 8 x 512 planes of 508 values:
/// 0.59 -> 0.1 ms against flex's `max_dim`). The maximum propagates NaN, as `MaxPool` does.
fn global_f32(
    x: FlexTensor,
    s: &[usize],
    out_shape: Vec<usize>,
    max: bool,
) -> Result<FlexTensor, String> {
    let planes = s[0] * s[1];
    let len: usize = s[2..].iter().product();
    let whole = |n: usize| PoolAxis {
        input: n,
        output: 1,
        kernel: n,
        stride: 1,
        dilation: 1,
        pad: 0,
        pad_end: 0,
    };
    let x = super::util::dense(x);
    let src = super::util::f32s(&x)?;
    let mut out = vec![0f32; planes];
    let (rows, cols) = (whole(1), whole(len));
    let src = src
        .get(..planes * len)
        .ok_or("global pool input is shorter than its shape")?;
    if max {
        max_pool2d(src, planes, rows, cols, &mut out)
    } else {
        avg_pool2d(src, planes, rows, cols, false, &mut out)
    }
    .ok_or_else(|| format!("global pool over {s:?}"))?;
    Ok(super::util::upload_f32(out, out_shape))
}

/// `GlobalAveragePool`.
pub fn global_average_pool(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| Ok(vec![Value::Float(global(float(ins.take(0)?)?, false)?)]))
}

/// `GlobalMaxPool`.
pub fn global_max_pool(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| Ok(vec![Value::Float(global(float(ins.take(0)?)?, true)?)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::util::{host_f32, upload_f32};

    /// The kernels' whole-plane global pools give flex's `max_dim` and `mean_dim` results
    /// (means within rounding of the summation order), at ranks 3 and 4 and on a view.
    #[test]
    fn global_pools_match_flex_reductions() {
        let x = upload_f32(
            (0..2 * 3 * 5 * 7)
                .map(|i| ((i * 37 % 23) as f32) * 0.37 - 4.0)
                .collect(),
            vec![2, 3, 5, 7],
        );
        let inputs = [
            x.clone(),
            B::float_reshape(x.clone(), Shape::from(vec![2, 3, 35])),
            B::float_permute(x, &[1, 0, 2, 3]),
        ];
        for t in inputs {
            let s = dims(&t);
            let flat = B::float_reshape(
                t.clone().to_contiguous(),
                Shape::from(vec![s[0], s[1], s[2..].iter().product()]),
            );
            for max in [true, false] {
                let want = host_f32(&if max {
                    B::float_max_dim(flat.clone(), 2)
                } else {
                    B::float_mean_dim(flat.clone(), 2)
                })
                .unwrap();
                let y = global(t.clone(), max).unwrap();
                assert_eq!(dims(&y)[..2], s[..2]);
                let got = host_f32(&y).unwrap();
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                        "{s:?} max {max}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
