//! Detection ops: `NonMaxSuppression` and `RoiAlign`.

use super::host::{float_value, host_float, i64_value, scalar_f64, scalar_i64};
use crate::ops::util::check_numel;
use crate::ops::{BuildCtx, Op, op};

/// The `[min, max]` extents (y then x) of a box in either encoding.
fn extents(b: &[f32], center: bool) -> [(f32, f32); 2] {
    let order = |a: f32, b: f32| if a >= b { (b, a) } else { (a, b) };
    if center {
        let (hw, hh) = (b[2] / 2.0, b[3] / 2.0);
        [(b[1] - hh, b[1] + hh), (b[0] - hw, b[0] + hw)]
    } else {
        [order(b[0], b[2]), order(b[1], b[3])]
    }
}

/// True when the IoU of boxes `a` and `b` exceeds `threshold`.
fn suppresses(a: &[f32], b: &[f32], center: bool, threshold: f32) -> bool {
    let ([ay, ax], [by, bx]) = (extents(a, center), extents(b, center));
    let (x0, x1) = (ax.0.max(bx.0), ax.1.min(bx.1));
    let (y0, y1) = (ay.0.max(by.0), ay.1.min(by.1));
    if x1 <= x0 || y1 <= y0 {
        return false;
    }
    let inter = (x1 - x0) * (y1 - y0);
    let area_a = (ax.1 - ax.0) * (ay.1 - ay.0);
    let area_b = (bx.1 - bx.0) * (by.1 - by.0);
    let union = area_a + area_b - inter;
    if inter <= 0.0 || area_a <= 0.0 || area_b <= 0.0 || union <= 0.0 {
        return false;
    }
    inter / union > threshold
}

/// `NonMaxSuppression(boxes, scores, max_output_boxes_per_class?, iou_threshold?,
/// score_threshold?)`: `[selected, 3]` rows of `(batch, class, box)`.
pub fn non_max_suppression(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let center = ctx.int("center_point_box", 0)? != 0;
    op(move |mut ins| {
        let boxes = host_float(&ins.take(0)?, "boxes")?;
        let scores = host_float(&ins.take(1)?, "scores")?;
        let present = |v: Option<crate::value::Value>| v.filter(|v| v.numel() > 0);
        let max_out = match present(ins.opt(2)) {
            Some(v) => scalar_i64(&v, "max_output_boxes_per_class")?.max(0) as usize,
            None => 0,
        };
        let iou = match present(ins.opt(3)) {
            Some(v) => scalar_f64(&v, "iou_threshold")? as f32,
            None => 0.0,
        };
        let score_min = present(ins.opt(4))
            .map(|v| scalar_f64(&v, "score_threshold"))
            .transpose()?
            .map(|v| v as f32);
        let (bs, ss) = (&boxes.shape, &scores.shape);
        if bs.len() != 3 || bs[2] != 4 || ss.len() != 3 || ss[0] != bs[0] || ss[2] != bs[1] {
            return Err(format!(
                "NonMaxSuppression boxes {bs:?} and scores {ss:?} must be [B, N, 4] and [B, C, N]"
            ));
        }
        let (nb, nc, n) = (ss[0], ss[1], ss[2]);
        let bx: Vec<f32> = boxes.data.iter().map(|&v| v as f32).collect();
        let mut rows = Vec::new();
        for b in 0..nb {
            let bb = &bx[b * n * 4..(b + 1) * n * 4];
            for c in 0..nc {
                let sc = &scores.data[(b * nc + c) * n..(b * nc + c + 1) * n];
                let mut cand: Vec<(f32, usize)> = sc
                    .iter()
                    .map(|&s| s as f32)
                    .enumerate()
                    .filter(|(_, s)| score_min.is_none_or(|m| *s > m))
                    .map(|(i, s)| (s, i))
                    .collect();
                cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut kept: Vec<usize> = Vec::new();
                for (_, i) in cand {
                    if kept.len() >= max_out {
                        break;
                    }
                    let bi = &bb[i * 4..i * 4 + 4];
                    if !kept
                        .iter()
                        .any(|&k| suppresses(bi, &bb[k * 4..k * 4 + 4], center, iou))
                    {
                        kept.push(i);
                        rows.extend([b as i64, c as i64, i as i64]);
                    }
                }
            }
        }
        let count = rows.len() / 3;
        Ok(vec![i64_value(rows, vec![count, 3])?])
    })
}

/// `RoiAlign` geometry.
#[derive(Clone, Copy)]
struct Roi {
    out_h: usize,
    out_w: usize,
    sampling: i64,
    scale: f64,
    half_pixel: bool,
    max: bool,
}

/// The bilinear taps `(index, weight)` of sample point `(y, x)` in an `h x w` plane.
fn sample_taps(y: f64, x: f64, h: usize, w: usize) -> [(usize, f64); 4] {
    if y < -1.0 || y > h as f64 || x < -1.0 || x > w as f64 {
        return [(0, 0.0); 4];
    }
    let (mut y, mut x) = (y.max(0.0), x.max(0.0));
    let (mut y0, mut x0) = (y as usize, x as usize);
    let y1 = if y0 >= h - 1 {
        y0 = h - 1;
        y = y0 as f64;
        y0
    } else {
        y0 + 1
    };
    let x1 = if x0 >= w - 1 {
        x0 = w - 1;
        x = x0 as f64;
        x0
    } else {
        x0 + 1
    };
    let (ly, lx) = (y - y0 as f64, x - x0 as f64);
    let (hy, hx) = (1.0 - ly, 1.0 - lx);
    [
        (y0 * w + x0, hy * hx),
        (y0 * w + x1, hy * lx),
        (y1 * w + x0, ly * hx),
        (y1 * w + x1, ly * lx),
    ]
}

/// `RoiAlign(X, rois, batch_indices)`: `[num_rois, C, output_height, output_width]`.
pub fn roi_align(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let default_mode = if ctx.opset >= 16 {
        "half_pixel"
    } else {
        "output_half_pixel"
    };
    let coord = ctx.string("coordinate_transformation_mode", default_mode)?;
    let mode = ctx.string("mode", "avg")?;
    let (oh, ow) = (ctx.int("output_height", 1)?, ctx.int("output_width", 1)?);
    if oh < 1 || ow < 1 || !matches!(mode.as_str(), "avg" | "max") {
        return Err(format!(
            "RoiAlign output {oh}x{ow} must be positive and mode `{mode}` avg or max"
        ));
    }
    if !matches!(coord.as_str(), "half_pixel" | "output_half_pixel") {
        return Err(format!(
            "RoiAlign coordinate_transformation_mode `{coord}` is unknown"
        ));
    }
    let p = Roi {
        out_h: oh as usize,
        out_w: ow as usize,
        sampling: ctx.int("sampling_ratio", 0)?,
        scale: ctx.float("spatial_scale", 1.0)? as f64,
        half_pixel: coord == "half_pixel",
        max: mode == "max",
    };
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "X")?;
        let rois = host_float(&ins.take(1)?, "rois")?;
        let batch = ins.take(2)?.host_i64()?;
        let (xs, rs) = (&x.shape, &rois.shape);
        if xs.len() != 4 || rs.len() != 2 || rs[1] != 4 || rs[0] != batch.len() {
            return Err(format!(
                "RoiAlign X {xs:?}, rois {rs:?} and {} batch indices do not fit",
                batch.len()
            ));
        }
        let (c, h, w) = (xs[1], xs[2], xs[3]);
        if (h == 0 || w == 0) && !batch.is_empty() {
            return Err(format!("RoiAlign of an empty image {xs:?}"));
        }
        let shape = vec![rs[0], c, p.out_h, p.out_w];
        let mut out = vec![0f64; check_numel(&shape)?];
        for (r, &bi) in batch.iter().enumerate() {
            if bi < 0 || bi as usize >= xs[0] {
                return Err(format!(
                    "batch index {bi} is out of range for {} images",
                    xs[0]
                ));
            }
            let roi = &rois.data[r * 4..r * 4 + 4];
            let off = if p.half_pixel { 0.5 } else { 0.0 };
            let (x0, y0) = (roi[0] * p.scale - off, roi[1] * p.scale - off);
            let (mut rw, mut rh) = (roi[2] * p.scale - off - x0, roi[3] * p.scale - off - y0);
            if !p.half_pixel {
                rw = rw.max(1.0);
                rh = rh.max(1.0);
            }
            let (bh, bw) = (rh / p.out_h as f64, rw / p.out_w as f64);
            let grid = |size: f64| -> Result<usize, String> {
                let g = if p.sampling > 0 {
                    p.sampling as f64
                } else {
                    size.ceil()
                };
                if !(0.0..=65536.0).contains(&g) {
                    return Err(format!("RoiAlign sampling grid {g} is out of range"));
                }
                Ok(g as usize)
            };
            let (gh, gw) = (grid(bh)?, grid(bw)?);
            check_numel(&[gh, gw, p.out_h, p.out_w])?;
            let count = (gh * gw).max(1) as f64;
            let mut taps = Vec::with_capacity(gh * gw);
            for ph in 0..p.out_h {
                for pw in 0..p.out_w {
                    taps.clear();
                    for iy in 0..gh {
                        let yy = y0 + ph as f64 * bh + (iy as f64 + 0.5) * bh / gh as f64;
                        for ix in 0..gw {
                            let xx = x0 + pw as f64 * bw + (ix as f64 + 0.5) * bw / gw as f64;
                            taps.push(sample_taps(yy, xx, h, w));
                        }
                    }
                    for ch in 0..c {
                        let plane = &x.data[(bi as usize * c + ch) * h * w..][..h * w];
                        let v = if p.max {
                            taps.iter()
                                .map(|t| {
                                    t.iter()
                                        .map(|&(i, wt)| wt * plane[i])
                                        .fold(f64::MIN, f64::max)
                                })
                                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                                .unwrap_or(0.0)
                        } else {
                            taps.iter()
                                .flat_map(|t| t.iter())
                                .map(|&(i, wt)| wt * plane[i])
                                .sum::<f64>()
                                / count
                        };
                        out[((r * c + ch) * p.out_h + ph) * p.out_w + pw] = v;
                    }
                }
            }
        }
        Ok(vec![float_value(out, shape, x.dtype)?])
    })
}
