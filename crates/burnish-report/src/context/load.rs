//! Contexts of the load sections: max-QPS searches and multi-model interference.

use serde::Serialize;

use super::validity;
use crate::dataset::Dataset;
use crate::format;

/// One max-QPS search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaxQpsRow {
    /// Target.
    pub target: String,
    /// The objective.
    pub slo: String,
    /// The rate found.
    pub max_qps: String,
    /// Trials and how many passed.
    pub trials: String,
    /// Validity of the final run.
    pub validity: &'static str,
    /// Its tone.
    pub tone: &'static str,
    /// Link to the validity run's page.
    pub href: String,
}

/// Interference ratios of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterferenceRow {
    /// Model label.
    pub label: String,
    /// p50 ratio.
    pub p50: String,
    /// p90 ratio.
    pub p90: String,
    /// p99 ratio.
    pub p99: String,
    /// p99.9 ratio.
    pub p999: String,
    /// Mean ratio.
    pub mean: String,
    /// Throughput ratio.
    pub throughput: String,
}

/// Rows of the max-QPS table.
pub fn max_qps(ds: &Dataset<'_>) -> Vec<MaxQpsRow> {
    ds.max_qps
        .iter()
        .map(|m| {
            let (v, tone) = validity(&m.validity_run);
            MaxQpsRow {
                target: m.target.clone(),
                slo: format!(
                    "{} ≤ {}",
                    format::percentile(m.slo.percentile),
                    format::us(m.slo.latency_us)
                ),
                max_qps: format::rate(m.max_qps),
                trials: format!(
                    "{} ({})",
                    m.trials.len(),
                    m.trials.iter().filter(|t| t.passed).count()
                ),
                validity: v,
                tone,
                href: ds
                    .entry(&m.validity_run)
                    .map(|e| e.page())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Interference ratios of every model of every multi-model benchmark.
pub fn interference(ds: &Dataset<'_>) -> Vec<InterferenceRow> {
    ds.multi_model
        .iter()
        .flat_map(|m| &m.interference)
        .map(|i| InterferenceRow {
            label: i.label.clone(),
            p50: format::ratio(i.p50),
            p90: format::ratio(i.p90),
            p99: format::ratio(i.p99),
            p999: format::ratio(i.p999),
            mean: format::ratio(i.mean),
            throughput: format::ratio(i.throughput),
        })
        .collect()
}
