//! Latency percentiles (p50, p90, p99, p99.9) as grouped bars, one bar per model variant.

use super::bars::{BarSeries, GroupedBars};
use super::{Drawn, style};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "latency-percentiles";

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Latency percentiles",
        "p50, p90, p99 and p99.9 latency of each model variant's latency run. Lower is better; \
         a gap that widens toward p99.9 is a tail effect.",
    );
    let runs = ds.latency_runs();
    if runs.is_empty() {
        return Ok(d.omitted("no single-stream or comparison run"));
    }
    let bars = GroupedBars {
        caption: None,
        categories: ["p50", "p90", "p99", "p99.9"].map(String::from).to_vec(),
        series: runs
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let l = &e.run.latency;
                BarSeries {
                    label: e.run.label.clone(),
                    values: vec![l.p50_us, l.p90_us, l.p99_us, l.p999_us],
                    color: i,
                }
            })
            .collect(),
        value_desc: "latency".to_string(),
        format: format::axis_us,
        horizontal: false,
    };
    let svg = style::svg_document(ID, "Latency percentiles", style::SIZE, |root| {
        bars.draw(root)
    })?;
    Ok(d.with_svg(svg))
}
