//! `DeformConv` (2-D): a convolution whose taps sample the input at learned offsets
//! (bilinear, zero outside the image), optionally scaled by a mask.

use super::host::{float_value, host_float};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

/// Bilinear sample of an `h x w` plane at `(y, x)`, zero outside.
fn bilinear(plane: &[f64], h: usize, w: usize, y: f64, x: f64) -> f64 {
    if !(y > -1.0 && y < h as f64 && x > -1.0 && x < w as f64) {
        return 0.0;
    }
    let (y0, x0) = (y.floor(), x.floor());
    let (ty, tx) = (y - y0, x - x0);
    let at = |yy: f64, xx: f64| -> f64 {
        if yy >= 0.0 && yy < h as f64 && xx >= 0.0 && xx < w as f64 {
            plane[yy as usize * w + xx as usize]
        } else {
            0.0
        }
    };
    at(y0, x0) * (1.0 - ty) * (1.0 - tx)
        + at(y0, x0 + 1.0) * (1.0 - ty) * tx
        + at(y0 + 1.0, x0) * ty * (1.0 - tx)
        + at(y0 + 1.0, x0 + 1.0) * ty * tx
}

/// Attribute list `name` of two positive values, or `default`.
fn pair(ctx: &BuildCtx, name: &str, default: usize) -> Result<[usize; 2], String> {
    match ctx.ints(name)? {
        None => Ok([default; 2]),
        Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => Ok([v[0] as usize, v[1] as usize]),
        Some(v) => Err(format!(
            "DeformConv {name} {v:?} must be two positive values"
        )),
    }
}

/// `DeformConv(X, W, offset, B?, mask?)` on `[N, C, H, W]` inputs.
pub fn deform_conv(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let strides = pair(ctx, "strides", 1)?;
    let dil = pair(ctx, "dilations", 1)?;
    let pads = match ctx.ints("pads")? {
        None => [0; 4],
        Some(p) if p.len() == 4 && p.iter().all(|&x| x >= 0) => {
            [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize]
        }
        Some(p) => {
            return Err(format!(
                "DeformConv pads {p:?} must be 4 non-negative values"
            ));
        }
    };
    let group = ctx.int("group", 1)?;
    let og = ctx.int("offset_group", 1)?;
    if group < 1 || og < 1 {
        return Err(format!(
            "DeformConv group {group} and offset_group {og} must be >= 1"
        ));
    }
    let (group, og) = (group as usize, og as usize);
    let kernel_attr = ctx.ints("kernel_shape")?;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "X")?;
        let wt = host_float(&ins.take(1)?, "W")?;
        let off = host_float(&ins.take(2)?, "offset")?;
        let bias = ins.opt(3).map(|v| host_float(&v, "B")).transpose()?;
        let mask = ins.opt(4).map(|v| host_float(&v, "mask")).transpose()?;
        let (xs, ws, os) = (&x.shape, &wt.shape, &off.shape);
        if xs.len() != 4 || ws.len() != 4 || os.len() != 4 {
            return Err(format!(
                "DeformConv supports 2-D inputs: X {xs:?}, W {ws:?}, offset {os:?}"
            ));
        }
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3]);
        let (oc, icg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
        if let Some(k) = &kernel_attr
            && k.as_slice() != [kh as i64, kw as i64]
        {
            return Err(format!("kernel_shape {k:?} does not match W {ws:?}"));
        }
        let (oh, ow) = (os[2], os[3]);
        let out_len = |len: usize, k: usize, d: usize, p: usize, s: usize| {
            (len + p)
                .checked_sub((k.max(1) - 1) * d + 1)
                .map(|v| v / s + 1)
        };
        if icg * group != c
            || oc % group != 0
            || c % og != 0
            || os[0] != n
            || os[1] != og * kh * kw * 2
            || out_len(h, kh, dil[0], pads[0] + pads[2], strides[0]) != Some(oh)
            || out_len(w, kw, dil[1], pads[1] + pads[3], strides[1]) != Some(ow)
        {
            return Err(format!(
                "DeformConv shapes X {xs:?}, W {ws:?}, offset {os:?} do not fit group {group}, \
                 offset_group {og} and the window attributes"
            ));
        }
        if let Some(m) = &mask
            && m.shape != [n, og * kh * kw, oh, ow]
        {
            return Err(format!(
                "DeformConv mask {:?} must be {:?}",
                m.shape,
                [n, og * kh * kw, oh, ow]
            ));
        }
        if let Some(b) = &bias
            && b.data.len() != oc
        {
            return Err(format!(
                "DeformConv bias {:?} must hold {oc} values",
                b.shape
            ));
        }
        let shape = vec![n, oc, oh, ow];
        let mut out = vec![0f64; check_numel(&shape)?];
        let cols = check_numel(&[c, kh, kw, oh, ow])?;
        let (taps, plane) = (kh * kw, oh * ow);
        let mut col = vec![0f64; cols];
        let ocg = oc / group;
        for b in 0..n {
            for ic in 0..c {
                let g = ic / (c / og);
                let src = &x.data[(b * c + ic) * h * w..][..h * w];
                for t in 0..taps {
                    let (i, j) = (t / kw, t % kw);
                    for p in 0..plane {
                        let (oy, ox) = (p / ow, p % ow);
                        let o = ((b * og + g) * taps + t) * 2 * plane + p;
                        let y =
                            (oy * strides[0] + i * dil[0]) as f64 - pads[0] as f64 + off.data[o];
                        let xx = (ox * strides[1] + j * dil[1]) as f64 - pads[1] as f64
                            + off.data[o + plane];
                        let m = mask
                            .as_ref()
                            .map_or(1.0, |m| m.data[((b * og + g) * taps + t) * plane + p]);
                        col[(ic * taps + t) * plane + p] = m * bilinear(src, h, w, y, xx);
                    }
                }
            }
            for o in 0..oc {
                let gi = o / ocg;
                let dst = &mut out[(b * oc + o) * plane..][..plane];
                dst.fill(bias.as_ref().map_or(0.0, |v| v.data[o]));
                for k in 0..icg * taps {
                    let wv = wt.data[o * icg * taps + k];
                    let row = &col[(gi * icg * taps + k) * plane..][..plane];
                    for (d, &v) in dst.iter_mut().zip(row) {
                        *d += wv * v;
                    }
                }
            }
        }
        Ok(vec![float_value(out, shape, x.dtype)?])
    })
}
