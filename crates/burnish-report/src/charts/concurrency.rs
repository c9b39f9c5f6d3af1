//! Closed-loop concurrency sweep: latency (p50 solid, p99 dashed) and throughput against the
//! number of outstanding queries, side by side.

use burnish_bench::{RunResult, ScenarioKind};
use plotters::prelude::*;

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "concurrency";

type Group<'a> = (&'a str, Vec<&'a RunResult>);

fn x_of(r: &RunResult) -> f64 {
    (r.settings.workers.max(1) as f64).log2()
}

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Latency and throughput vs concurrency",
        "Closed loop with N queries outstanding (log₂ axis). Left: p50 (solid) and p99 \
         (dashed) latency; right: items per second. Past the knee, more concurrency only adds \
         queueing delay.",
    );
    let mut groups: Vec<Group<'_>> = ds.sweep(ScenarioKind::Concurrency);
    for (_, runs) in &mut groups {
        runs.sort_by_key(|r| r.settings.workers);
    }
    if groups.is_empty() {
        return Ok(d.omitted("no concurrency sweep"));
    }
    let runs = || groups.iter().flat_map(|(_, r)| r.iter().copied());
    let (x_lo, x_hi) = style::extent(runs().map(x_of)).unwrap_or((0.0, 1.0));
    let x_range = x_lo - 0.3..x_hi.max(x_lo + 1.0) + 0.3;
    let x_labels = ((x_hi - x_lo) as usize + 3).min(12);
    let (lat_lo, lat_hi) = style::extent(runs().flat_map(|r| [r.latency.p50_us, r.latency.p99_us]))
        .unwrap_or((1.0, 10.0));
    let tput_hi = style::extent(runs().map(|r| r.throughput.items_per_s))
        .map_or(1.0, |(_, hi)| style::headroom(hi));
    let svg = style::svg_document(
        ID,
        "Latency and throughput vs concurrency",
        style::SIZE,
        |root| -> DrawResult {
            let panels = root.split_evenly((1, 2));
            let mut left = ChartBuilder::on(&panels[0])
                .margin(12)
                .caption("latency", style::font(14))
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x_range.clone(), style::log_axis(lat_lo, lat_hi))?;
            let mut mesh = left.configure_mesh();
            style::mesh(&mut mesh);
            mesh.x_desc("outstanding queries")
                .y_desc("latency (log scale)")
                .x_labels(x_labels)
                .x_label_formatter(&style::pow2_label)
                .y_label_formatter(&|v| format::axis_us(*v))
                .draw()?;
            for (i, (target, rs)) in groups.iter().enumerate() {
                let c = style::color(i);
                let p50 = rs.iter().map(|r| (x_of(r), r.latency.p50_us));
                let p99 = rs.iter().map(|r| (x_of(r), r.latency.p99_us));
                left.draw_series(LineSeries::new(p50.clone(), c.stroke_width(2)))?
                    .label(format!("{target} p50"))
                    .legend(style::swatch(c));
                left.draw_series(DashedLineSeries::new(p99, 6, 4, c.stroke_width(2)))?;
                left.draw_series(p50.map(|p| Circle::new(p, 3, c.filled())))?;
            }
            style::legend_at(&mut left, SeriesLabelPosition::UpperLeft)?;

            let mut right = ChartBuilder::on(&panels[1])
                .margin(12)
                .margin_right(28)
                .caption("throughput", style::font(14))
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x_range.clone(), 0.0..tput_hi)?;
            let mut mesh = right.configure_mesh();
            style::mesh(&mut mesh);
            mesh.x_desc("outstanding queries")
                .y_desc("items / s")
                .x_labels(x_labels)
                .x_label_formatter(&style::pow2_label)
                .y_label_formatter(&|v| format::axis_num(*v))
                .draw()?;
            for (i, (_, rs)) in groups.iter().enumerate() {
                let c = style::color(i);
                let pts = rs.iter().map(|r| (x_of(r), r.throughput.items_per_s));
                right.draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?;
                right.draw_series(pts.map(|p| Circle::new(p, 3, c.filled())))?;
            }
            Ok(())
        },
    )?;
    Ok(d.with_svg(svg))
}
