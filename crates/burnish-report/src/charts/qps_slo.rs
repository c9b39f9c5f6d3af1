//! Server max-QPS search: latency at the SLO percentile against offered load, each trial a
//! point (filled: met the SLO; cross: missed it), with the SLO line and the rate found.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "server-qps";

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Tail latency vs offered load (server)",
        "Each max-QPS search trial at its scheduled rate: latency at the SLO percentile \
         (log scale); filled points met the SLO, crosses missed it. The red dashed line is \
         the SLO; the dotted vertical line the highest passing rate.",
    );
    let reports: Vec<_> = ds.max_qps.iter().filter(|m| !m.trials.is_empty()).collect();
    if reports.is_empty() {
        return Ok(d.omitted("no server max-QPS search"));
    }
    let trials = || reports.iter().flat_map(|m| m.trials.iter());
    let (q_lo, q_hi) = style::extent(trials().map(|t| t.qps)).unwrap_or((0.0, 1.0));
    let (l_lo, l_hi) = style::extent(
        trials()
            .map(|t| t.observed_us)
            .chain(reports.iter().map(|m| m.slo.latency_us)),
    )
    .unwrap_or((1.0, 10.0));
    let x_range = (q_lo * 0.9).max(0.0)..style::headroom(q_hi.max(q_lo + 1.0));
    let svg = style::svg_document(
        ID,
        "Tail latency vs offered load",
        style::SIZE,
        |root| -> DrawResult {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .margin_right(28)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(x_range.clone(), style::log_axis(l_lo, l_hi))?;
            let mut mesh = chart.configure_mesh();
            style::mesh(&mut mesh);
            mesh.x_desc("offered load (queries / s)")
                .y_desc("latency at SLO percentile (log)")
                .x_label_formatter(&|v| format::axis_num(*v))
                .y_label_formatter(&|v| format::axis_us(*v))
                .draw()?;
            let y_range = style::log_range(l_lo, l_hi);
            for (i, m) in reports.iter().enumerate() {
                let c = style::color(i);
                let mut pts: Vec<_> = m.trials.iter().collect();
                pts.sort_by(|a, b| a.qps.total_cmp(&b.qps));
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|t| (t.qps, t.observed_us)),
                        c.mix(0.6).stroke_width(1),
                    ))?
                    .label(m.target.as_str())
                    .legend(style::swatch(c));
                chart.draw_series(
                    pts.iter()
                        .filter(|t| t.passed)
                        .map(|t| Circle::new((t.qps, t.observed_us), 5, c.filled())),
                )?;
                chart.draw_series(
                    pts.iter()
                        .filter(|t| !t.passed)
                        .map(|t| Cross::new((t.qps, t.observed_us), 5, c.stroke_width(2))),
                )?;
                let slo = m.slo.latency_us;
                chart.draw_series(DashedLineSeries::new(
                    [(x_range.start, slo), (x_range.end, slo)],
                    8,
                    5,
                    style::BAD.stroke_width(2),
                ))?;
                let (sx, sy) = chart.backend_coord(&(x_range.end, slo));
                let slo_text = format!(
                    "SLO {} ≤ {}",
                    format::percentile(m.slo.percentile),
                    format::us(slo)
                );
                style::text_at(
                    root,
                    &slo_text,
                    (sx - 6, sy - 4),
                    &style::font(11)
                        .color(&style::BAD)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                )?;
                if m.max_qps > 0.0 {
                    chart.draw_series(DashedLineSeries::new(
                        [(m.max_qps, y_range.start), (m.max_qps, y_range.end)],
                        3,
                        4,
                        c.stroke_width(1),
                    ))?;
                    let (mx, my) = chart.backend_coord(&(m.max_qps, y_range.end));
                    let text = format!("max {} qps", format::rate(m.max_qps));
                    style::text_at(
                        root,
                        &text,
                        (mx - 4, my + 4 + 14 * i as i32),
                        &style::font(11)
                            .color(&c)
                            .pos(Pos::new(HPos::Right, VPos::Top)),
                    )?;
                }
            }
            style::legend_at(&mut chart, SeriesLabelPosition::LowerRight)
        },
    )?;
    Ok(d.with_svg(svg))
}
