//! Accuracy against latency, one point per model variant, marker area proportional to the
//! model file size; the Pareto frontier (no other variant is both faster and more accurate)
//! joined by a dashed line.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "pareto";

struct Point<'a> {
    label: &'a str,
    latency_us: f64,
    accuracy: f64,
    size: u64,
}

/// Indices of the non-dominated points, by increasing latency.
fn frontier(points: &[Point<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&points[a], &points[b]);
        pa.latency_us
            .total_cmp(&pb.latency_us)
            .then(pb.accuracy.total_cmp(&pa.accuracy))
    });
    let mut best = f64::NEG_INFINITY;
    order
        .into_iter()
        .filter(|&i| {
            let keep = points[i].accuracy > best;
            best = best.max(points[i].accuracy);
            keep
        })
        .collect()
}

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Accuracy vs latency vs size",
        "One point per model variant: p90 latency of its latency run against task accuracy; \
         marker area is proportional to the model file size. The dashed line joins the Pareto \
         frontier: variants no other variant beats on both latency and accuracy.",
    );
    let points: Vec<Point<'_>> = ds
        .input
        .variants
        .iter()
        .filter_map(|v| {
            let run = ds.variant_run(v)?;
            Some(Point {
                label: &v.label,
                latency_us: run.latency.p90_us,
                accuracy: v.accuracy.filter(|a| a.is_finite())?,
                size: v.file_size_bytes,
            })
        })
        .collect();
    if points.is_empty() {
        return Ok(d.omitted("no model variant has both an accuracy and a latency run"));
    }
    let x_hi = style::extent(points.iter().map(|p| p.latency_us)).map_or(1.0, |(_, hi)| hi);
    let (a_lo, a_hi) = style::extent(points.iter().map(|p| p.accuracy)).unwrap_or((0.0, 1.0));
    let pad = (a_hi - a_lo).max(0.01) * 0.3;
    let y_range = (a_lo - pad).max(0.0)..(a_hi + pad).min(1.0 + pad);
    let max_size = points.iter().map(|p| p.size).max().unwrap_or(1).max(1) as f64;
    let radius = |size: u64| (5.0 + 17.0 * (size as f64 / max_size).sqrt()).round() as i32;
    let front = frontier(&points);
    let svg = style::svg_document(
        ID,
        "Accuracy vs latency vs size",
        style::SIZE,
        |root| -> DrawResult {
            let mut chart = ChartBuilder::on(root)
                .margin(16)
                .margin_right(40)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(0.0..x_hi * 1.3, y_range)?;
            let mut mesh = chart.configure_mesh();
            style::mesh(&mut mesh);
            mesh.x_desc("p90 latency")
                .y_desc("accuracy")
                .x_label_formatter(&|v| format::axis_us(*v))
                .y_label_formatter(&|v| format::pct(*v, 1))
                .draw()?;
            chart.draw_series(DashedLineSeries::new(
                front
                    .iter()
                    .map(|&i| (points[i].latency_us, points[i].accuracy)),
                6,
                4,
                style::AXIS.stroke_width(2),
            ))?;
            for (i, p) in points.iter().enumerate() {
                let c = style::color(i);
                let at = (p.latency_us, p.accuracy);
                let r = radius(p.size);
                chart.draw_series([
                    Circle::new(at, r, c.mix(0.35).filled()),
                    Circle::new(at, r, c.stroke_width(2)),
                ])?;
                let (x, y) = chart.backend_coord(&at);
                let text = format!("{} · {}", p.label, format::bytes(p.size));
                style::text_at(
                    root,
                    &text,
                    (x + r + 6, y),
                    &style::font(12).pos(Pos::new(HPos::Left, VPos::Center)),
                )?;
            }
            Ok(())
        },
    )?;
    Ok(d.with_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::{Point, frontier};

    #[test]
    fn frontier_keeps_points_no_other_beats_on_both_axes() {
        let p = |label, latency_us, accuracy| Point {
            label,
            latency_us,
            accuracy,
            size: 1,
        };
        let points = [
            p("slow-best", 900.0, 0.99),
            p("fast-worse", 300.0, 0.97),
            p("dominated", 950.0, 0.98),
            p("middle", 500.0, 0.985),
            p("tie-slower", 600.0, 0.985),
        ];
        let labels: Vec<_> = frontier(&points).iter().map(|&i| points[i].label).collect();
        assert_eq!(labels, ["fast-worse", "middle", "slow-best"]);
    }
}
