//! Latency CDF: the fraction of queries at most a given latency, log latency axis; one curve
//! per latency run (baseline against optimized when a comparison was made).

use burnish_bench::RunResult;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::{Dataset, RunEntry};
use crate::error::ReportError;
use crate::format;

const ID: &str = "latency-cdf";

/// Quantiles guide lines are drawn at.
const GUIDES: [(f64, &str); 3] = [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")];

/// A run's CDF as `(latency µs, fraction)` points: nearest-rank quantiles of the retained
/// samples every 0.5% up to 99%, then the run's stored CDF (computed over every query) for the
/// tail; only the stored CDF when fewer than 200 samples were kept.
pub fn points(run: &RunResult) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let mut sorted: Vec<f64> = run
        .samples_us
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let tail_from = if sorted.len() >= 200 {
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        for k in 0..=198 {
            let q = f64::from(k) * 0.005;
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
            pts.push((sorted[rank - 1], q));
        }
        0.99
    } else {
        -1.0
    };
    pts.extend(
        run.cdf
            .iter()
            .filter(|p| p.q > tail_from)
            .map(|p| (p.us, p.q)),
    );
    let mut max = 0.0f64;
    for p in &mut pts {
        max = max.max(p.0);
        p.0 = max;
    }
    pts.retain(|p| p.0 > 0.0);
    pts
}

fn draw(label: &str, series: &[(String, Vec<(f64, f64)>)]) -> Result<String, ReportError> {
    let (lo, hi) = style::extent(series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)))
        .unwrap_or((1.0, 10.0));
    style::svg_document(ID, label, style::SIZE, |root| -> DrawResult {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(style::log_axis(lo, hi), 0.0..1.0)?;
        let mut mesh = chart.configure_mesh();
        style::mesh(&mut mesh);
        mesh.x_desc("latency (log scale)")
            .y_desc("fraction of queries")
            .x_label_formatter(&|v| format::axis_us(*v))
            .y_label_formatter(&|v| format::pct(*v, 0))
            .draw()?;
        let x_lo = style::log_range(lo, hi).start;
        for (q, name) in GUIDES {
            chart.draw_series(DashedLineSeries::new(
                [(x_lo, q), (style::log_range(lo, hi).end, q)],
                4,
                4,
                style::AXIS.stroke_width(1),
            ))?;
            let (x, y) = chart.backend_coord(&(x_lo, q));
            style::text_at(
                root,
                name,
                (x + 4, y - 2),
                &style::font(10).pos(Pos::new(HPos::Left, VPos::Bottom)),
            )?;
        }
        for (i, (name, pts)) in series.iter().enumerate() {
            let c = style::color(i);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?
                .label(name.as_str())
                .legend(style::swatch(c));
        }
        style::legend_at(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

/// The index chart: every latency run overlaid.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Latency distribution",
        "Cumulative distribution of query latency, one curve per model variant (the \
         comparison's baseline and candidate when one was made). Further right is slower; the \
         tail is where curves bend toward 100%.",
    );
    let series: Vec<(String, Vec<(f64, f64)>)> = ds
        .latency_runs()
        .into_iter()
        .map(|e| (e.run.label.clone(), points(e.run)))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if series.is_empty() {
        return Ok(d.omitted("no single-stream or comparison run with latency samples"));
    }
    let svg = draw("Latency CDF", &series)?;
    Ok(d.with_svg(svg))
}

/// A run page's chart: that run's CDF alone.
pub fn for_run(entry: &RunEntry<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        format!("run-{}-cdf", entry.slug),
        "Latency distribution",
        "Cumulative distribution of query latency for this run (log latency axis).",
    );
    let pts = points(entry.run);
    if pts.is_empty() {
        return Ok(d.omitted("this run recorded no latencies"));
    }
    let svg = draw("Latency CDF", &[(entry.run.label.clone(), pts)])?;
    Ok(d.with_svg(svg))
}
