//! Per-op time breakdown: self time of the most expensive op types, one bar per profiled
//! variant (baseline against optimized), the rest pooled as "other".

use std::collections::BTreeMap;

use super::bars::{BarSeries, GroupedBars};
use super::{Drawn, style};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "op-breakdown";

/// Op types shown individually; the rest are summed into "other".
const TOP: usize = 10;

fn ms_label(ms: f64) -> String {
    format::axis_us(ms * 1e3)
}

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Time per op type",
        "Self time of each op type per profiled variant (the ten most expensive types, the \
         rest as \"other\"). Fusions and folding show up as bars that shrink or vanish.",
    );
    let profiles = &ds.input.profiles;
    if profiles.iter().all(|p| p.rows.is_empty()) {
        return Ok(d.omitted("no per-op profiles"));
    }
    let per_profile: Vec<BTreeMap<&str, f64>> = profiles
        .iter()
        .map(|p| {
            let mut m = BTreeMap::new();
            for r in &p.rows {
                *m.entry(r.op_type.as_str()).or_insert(0.0) += r.self_ms;
            }
            m
        })
        .collect();
    let mut worst: BTreeMap<&str, f64> = BTreeMap::new();
    for m in &per_profile {
        for (&op, &ms) in m {
            let w = worst.entry(op).or_insert(0.0);
            *w = w.max(ms);
        }
    }
    let mut ranked: Vec<(&str, f64)> = worst.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<&str> = ranked.iter().take(TOP).map(|(op, _)| *op).collect();
    let mut categories: Vec<String> = shown.iter().map(|s| s.to_string()).collect();
    let has_other = ranked.len() > TOP;
    if has_other {
        categories.push("other".to_string());
    }
    let series = profiles
        .iter()
        .zip(&per_profile)
        .enumerate()
        .map(|(i, (p, m))| {
            let mut values: Vec<f64> = shown
                .iter()
                .map(|op| m.get(op).copied().unwrap_or(0.0))
                .collect();
            if has_other {
                values.push(
                    m.iter()
                        .filter(|(op, _)| !shown.contains(op))
                        .map(|(_, v)| v)
                        .sum(),
                );
            }
            BarSeries {
                label: p.variant.clone(),
                values,
                color: i,
            }
        })
        .collect();
    let bars = GroupedBars {
        caption: None,
        categories,
        series,
        value_desc: "self time".to_string(),
        format: ms_label,
        horizontal: true,
    };
    let rows = bars.categories.len() as u32;
    let height = (rows * (18 + 10 * profiles.len() as u32) + 110).clamp(260, 900);
    let svg = style::svg_document(ID, "Time per op type", (style::SIZE.0, height), |root| {
        bars.draw(root)
    })?;
    Ok(d.with_svg(svg))
}
