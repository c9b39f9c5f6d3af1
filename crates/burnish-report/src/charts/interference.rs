//! Multi-model interference: each model's latency percentiles alone and with all models
//! running together, one panel per model, one chart per multi-model benchmark.

use super::bars::{BarSeries, GroupedBars};
use super::{Drawn, style};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "interference";

/// One chart per multi-model benchmark, or one omitted slot when there is none.
pub fn charts(ds: &Dataset<'_>) -> Result<Vec<Drawn>, ReportError> {
    let caption = "Latency percentiles of each model run alone and with all models running at \
                   once; the panel title gives the p99 interference ratio (together / alone).";
    if ds.multi_model.is_empty() {
        return Ok(vec![
            Drawn::new(ID, "Multi-model interference", caption).omitted("no multi-model runs"),
        ]);
    }
    ds.multi_model
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let id = if ds.multi_model.len() == 1 {
                ID.to_string()
            } else {
                format!("{ID}-{}", k + 1)
            };
            let d = Drawn::new(id, "Multi-model interference", caption);
            let panels: Vec<GroupedBars> = m
                .alone
                .iter()
                .zip(&m.together)
                .enumerate()
                .map(|(i, (a, t))| {
                    let label = m
                        .interference
                        .get(i)
                        .map_or(a.target.as_str(), |x| &x.label);
                    let ratio = m.interference.get(i).map_or(f64::NAN, |x| x.p99);
                    let values = |r: &burnish_bench::RunResult| {
                        let l = &r.latency;
                        vec![l.p50_us, l.p90_us, l.p99_us, l.p999_us]
                    };
                    GroupedBars {
                        caption: Some(format!("{label} · p99 {}", format::ratio(ratio))),
                        categories: ["p50", "p90", "p99", "p99.9"].map(String::from).to_vec(),
                        series: vec![
                            BarSeries {
                                label: "alone".to_string(),
                                values: values(a),
                                color: 0,
                            },
                            BarSeries {
                                label: "together".to_string(),
                                values: values(t),
                                color: 3,
                            },
                        ],
                        value_desc: "latency".to_string(),
                        format: format::axis_us,
                        horizontal: false,
                    }
                })
                .collect();
            if panels.is_empty() {
                return Ok(d.omitted("the multi-model benchmark has no runs"));
            }
            let cols = panels.len().min(3);
            let rows = panels.len().div_ceil(cols);
            let size = (style::SIZE.0, 380 * rows as u32);
            let svg = style::svg_document(ID, "Multi-model interference", size, |root| {
                let areas = root.split_evenly((rows, cols));
                for (panel, area) in panels.iter().zip(&areas) {
                    panel.draw(area)?;
                }
                Ok(())
            })?;
            Ok(d.with_svg(svg))
        })
        .collect()
}
