//! Offline throughput against batch size, one line per target.

use burnish_bench::ScenarioKind;
use plotters::prelude::*;

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "offline-batch";

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Throughput vs batch size (offline)",
        "Items per second of the offline scenario at each batch size (log₂ batch axis). Where \
         the curve flattens, larger batches stop paying.",
    );
    let groups: Vec<(&str, Vec<(f64, f64)>)> = ds
        .sweep(ScenarioKind::Offline)
        .into_iter()
        .map(|(t, runs)| {
            let mut pts: Vec<(f64, f64)> = runs
                .iter()
                .map(|r| {
                    (
                        (r.settings.batch.max(1) as f64).log2(),
                        r.throughput.items_per_s,
                    )
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (t, pts)
        })
        .collect();
    if groups.is_empty() {
        return Ok(d.omitted("no offline runs"));
    }
    let (x_lo, x_hi) =
        style::extent(groups.iter().flat_map(|(_, p)| p.iter().map(|p| p.0))).unwrap_or((0.0, 1.0));
    let y_hi = style::extent(groups.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)))
        .map_or(1.0, |(_, hi)| style::headroom(hi));
    let svg = style::svg_document(
        ID,
        "Offline throughput vs batch size",
        style::SIZE,
        |root| -> DrawResult {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .margin_right(28)
                .x_label_area_size(44)
                .y_label_area_size(72)
                .build_cartesian_2d(x_lo - 0.3..x_hi.max(x_lo + 1.0) + 0.3, 0.0..y_hi)?;
            let mut mesh = chart.configure_mesh();
            style::mesh(&mut mesh);
            mesh.x_desc("batch size")
                .y_desc("items / s")
                .x_labels(((x_hi - x_lo) as usize + 3).min(16))
                .x_label_formatter(&style::pow2_label)
                .y_label_formatter(&|v| format::axis_num(*v))
                .draw()?;
            for (i, (target, pts)) in groups.iter().enumerate() {
                let c = style::color(i);
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?
                    .label(*target)
                    .legend(style::swatch(c));
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
            }
            style::legend_at(&mut chart, SeriesLabelPosition::UpperLeft)
        },
    )?;
    Ok(d.with_svg(svg))
}
