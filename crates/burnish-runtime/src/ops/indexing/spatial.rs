//! Spatial rearrangements: `MaxUnpool`, `Col2Im` and `CenterCropPad`.

use burnish_model::Buffer;

use super::host::{BoxCopy, Elem, host, int_values, map_buffer, strides, value};
use crate::ops::util::{axes, check_numel};
use crate::ops::{BuildCtx, Op, op};

/// A list attribute of `n` values, `default` when absent.
fn list(ctx: &BuildCtx, name: &str, n: usize, default: i64) -> Result<Option<Vec<i64>>, String> {
    match ctx.ints(name)? {
        Some(v) if v.len() != n && n > 0 => Err(format!(
            "attribute `{name}` has {} values, expected {n}",
            v.len()
        )),
        Some(v) => Ok(Some(v)),
        None if n > 0 => Ok(Some(vec![default; n])),
        None => Ok(None),
    }
}

fn unpool_typed<T: Elem>(
    x: &[T],
    places: &[usize],
    inferred: &[usize],
    out_shape: &[usize],
) -> Vec<T> {
    let mut y = vec![T::ZERO; inferred.iter().product()];
    for (&p, &v) in places.iter().zip(x) {
        y[p] = v;
    }
    if inferred == out_shape {
        return y;
    }
    let mut out = vec![T::ZERO; out_shape.iter().product()];
    let zero = vec![0; out_shape.len()];
    BoxCopy {
        src_shape: inferred,
        src_start: &zero,
        dst_shape: out_shape,
        dst_start: &zero,
        extent: inferred,
    }
    .run(&y, &mut out);
    out
}

/// `MaxUnpool(X, I, output_shape)` with `kernel_shape`, `strides` and `pads`: scatters `X` to
/// the flat positions `I` of the unpooled tensor, placed at the start of `output_shape`.
pub fn max_unpool(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let kernel = ctx
        .ints("kernel_shape")?
        .ok_or("MaxUnpool needs kernel_shape")?;
    let n = kernel.len();
    let strides_attr = list(ctx, "strides", n, 1)?.unwrap_or_default();
    let pads = list(ctx, "pads", 2 * n, 0)?.unwrap_or_default();
    op(move |mut ins| {
        let x = ins.take(0)?;
        let idx = ins.take(1)?;
        let xs = x.shape();
        if xs.len() != n + 2 || idx.shape() != xs {
            return Err(format!(
                "X {xs:?} and I {:?} must share a shape of rank {}",
                idx.shape(),
                n + 2
            ));
        }
        let mut inferred = xs[..2].to_vec();
        for d in 0..n {
            let size = (xs[d + 2] as i64 - 1)
                .checked_mul(strides_attr[d])
                .and_then(|v| {
                    v.checked_sub(pads[d])?
                        .checked_sub(pads[n + d])?
                        .checked_add(kernel[d])
                })
                .ok_or("MaxUnpool attributes overflow")?;
            if size < 0 {
                return Err(format!("unpooled dim {d} would have size {size}"));
            }
            inferred.push(size as usize);
        }
        let out_shape = match ins.opt(2) {
            Some(s) => {
                let s = int_values(&s, "output_shape")?;
                if s.len() != xs.len() || s.iter().zip(&inferred).any(|(&o, &i)| o < i as i64) {
                    return Err(format!(
                        "output_shape {s:?} must have rank {} and cover {inferred:?}",
                        xs.len()
                    ));
                }
                s.into_iter().map(|d| d as usize).collect()
            }
            None => inferred.clone(),
        };
        let total = check_numel(&inferred)?;
        check_numel(&out_shape)?;
        let places = int_values(&idx, "I")?
            .into_iter()
            .map(|i| {
                usize::try_from(i)
                    .ok()
                    .filter(|&p| p < total)
                    .ok_or_else(|| format!("I value {i} is out of range for {total} outputs"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let h = host(&x)?;
        let out: Buffer =
            map_buffer!(&h.data, v => unpool_typed(v, &places, &inferred, &out_shape));
        Ok(vec![value(out_shape, out)?])
    })
}

/// Where each `(kernel offset, block)` pair of `Col2Im` adds into one image plane: pairs of
/// (column offset, image offset).
fn col2im_plan(
    image: &[usize],
    block: &[usize],
    dil: &[i64],
    pads: &[i64],
    st: &[i64],
    nb: &[usize],
) -> Vec<(usize, usize)> {
    let n = image.len();
    let (ks, bl): (usize, usize) = (block.iter().product(), nb.iter().product());
    let (kst, bst, ist) = (strides(block), strides(nb), strides(image));
    let mut plan = Vec::new();
    for kc in 0..ks {
        'col: for col in 0..bl {
            let mut off = 0;
            for d in 0..n {
                let k = (kc / kst[d]) % block[d];
                let b = (col / bst[d]) % nb[d];
                let p = b as i64 * st[d] - pads[d] + k as i64 * dil[d];
                if p < 0 || p >= image[d] as i64 {
                    continue 'col;
                }
                off += p as usize * ist[d];
            }
            plan.push((kc * bl + col, off));
        }
    }
    plan
}

fn col2im_typed<T: Elem>(
    x: &[T],
    planes: usize,
    per_plane: usize,
    image: usize,
    plan: &[(usize, usize)],
) -> Vec<T> {
    let mut out = vec![T::ZERO; planes * image];
    for p in 0..planes {
        let (src, dst) = (&x[p * per_plane..], &mut out[p * image..(p + 1) * image]);
        for &(c, i) in plan {
            dst[i] = dst[i].add(src[c]);
        }
    }
    out
}

/// `Col2Im(input, image_shape, block_shape)` with `dilations`, `pads` and `strides`: sums the
/// column blocks back into `[N, C, image...]`.
pub fn col2im(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let dil_attr = ctx.ints("dilations")?;
    let pads_attr = ctx.ints("pads")?;
    let st_attr = ctx.ints("strides")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let image = int_values(&ins.take(1)?, "image_shape")?;
        let block = int_values(&ins.take(2)?, "block_shape")?;
        let n = image.len();
        let xs = x.shape();
        if block.len() != n || n == 0 || xs.len() != 3 {
            return Err(format!(
                "input {xs:?} must be [N, C*prod(block), L] with image_shape and block_shape of one length"
            ));
        }
        let pos = |v: &[i64], what: &str| -> Result<Vec<usize>, String> {
            v.iter()
                .map(|&d| {
                    usize::try_from(d)
                        .ok()
                        .filter(|&d| d > 0)
                        .ok_or_else(|| format!("{what} value {d} must be positive"))
                })
                .collect()
        };
        let (image, block) = (pos(&image, "image_shape")?, pos(&block, "block_shape")?);
        let dil = dil_attr.clone().unwrap_or_else(|| vec![1; n]);
        let pads = pads_attr.clone().unwrap_or_else(|| vec![0; 2 * n]);
        let st = st_attr.clone().unwrap_or_else(|| vec![1; n]);
        if dil.len() != n
            || pads.len() != 2 * n
            || st.len() != n
            || dil.iter().chain(&st).any(|&v| v < 1)
        {
            return Err(format!(
                "dilations {dil:?}, pads {pads:?} or strides {st:?} do not fit {n} dims"
            ));
        }
        let mut nb = Vec::with_capacity(n);
        for d in 0..n {
            let reach = dil[d].saturating_mul(block[d] as i64 - 1).saturating_add(1);
            let span = (image[d] as i64)
                .saturating_add(pads[d])
                .saturating_add(pads[n + d])
                .saturating_sub(reach);
            if span < 0 {
                return Err(format!("no sliding block fits image dim {d}"));
            }
            nb.push((span / st[d] + 1) as usize);
        }
        let ks = check_numel(&block)?;
        if xs[1] % ks != 0 || xs[1] < ks || xs[2] != check_numel(&nb)? {
            return Err(format!(
                "input {xs:?} does not match blocks {nb:?} of kernel {block:?}"
            ));
        }
        let c = xs[1] / ks;
        let mut out_shape = vec![xs[0], c];
        out_shape.extend_from_slice(&image);
        let img = check_numel(&image)?;
        check_numel(&out_shape)?;
        let plan = col2im_plan(&image, &block, &dil, &pads, &st, &nb);
        let h = host(&x)?;
        let out: Buffer =
            map_buffer!(&h.data, v => col2im_typed(v, xs[0] * c, ks * xs[2], img, &plan));
        Ok(vec![value(out_shape, out)?])
    })
}

fn crop_pad_typed<T: Elem>(x: &[T], copy: &BoxCopy, total: usize) -> Vec<T> {
    let mut out = vec![T::ZERO; total];
    copy.run(x, &mut out);
    out
}

/// `CenterCropPad(input, shape)` with optional `axes`: crops or zero-pads each listed axis
/// around its centre.
pub fn center_crop_pad(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let axes_attr = ctx.ints("axes")?;
    op(move |mut ins| {
        let x = ins.take(0)?;
        let target = int_values(&ins.take(1)?, "shape")?;
        let xs = x.shape();
        let r = xs.len();
        let ax: Vec<usize> = match &axes_attr {
            Some(a) => {
                let list = axes(a, r)?;
                if list.len() != a.len() {
                    return Err(format!("axes {a:?} repeat an axis"));
                }
                a.iter()
                    .map(|&v| crate::ops::util::axis(v, r))
                    .collect::<Result<_, _>>()?
            }
            None => (0..r).collect(),
        };
        if ax.len() != target.len() {
            return Err(format!(
                "shape has {} values for {} axes",
                target.len(),
                ax.len()
            ));
        }
        let mut out_shape = xs.clone();
        let (mut src_start, mut dst_start, mut extent) = (vec![0; r], vec![0; r], xs.clone());
        for (&a, &t) in ax.iter().zip(&target) {
            let t = usize::try_from(t).map_err(|_| format!("shape value {t} is negative"))?;
            out_shape[a] = t;
            if t < xs[a] {
                src_start[a] = (xs[a] - t) / 2;
                extent[a] = t;
            } else {
                dst_start[a] = (t - xs[a]) / 2;
            }
        }
        let total = check_numel(&out_shape)?;
        let copy = BoxCopy {
            src_shape: &xs,
            src_start: &src_start,
            dst_shape: &out_shape,
            dst_start: &dst_start,
            extent: &extent,
        };
        let h = host(&x)?;
        let out: Buffer = map_buffer!(&h.data, v => crop_pad_typed(v, &copy, total));
        Ok(vec![value(out_shape, out)?])
    })
}
