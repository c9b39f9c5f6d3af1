//! The context of the index page: headline cards, verdicts, runs, validity, load tests.

use serde::Serialize;

use super::drift::{DriftView, drift};
use super::environment::{EnvironmentView, environments};
use super::load::{self, InterferenceRow, MaxQpsRow};
use super::models::{OptimizationView, ProfileView, VariantRow, optimization, profiles, variants};
use super::runs::{self, RunRow, ValidityView};
use super::verdict::{self, ComparisonView, RegressionRow};
use super::{Card, validity};
use crate::charts::ChartSlot;
use crate::dataset::{Dataset, RunSource};
use crate::format;

/// Everything the index page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexPage {
    /// Page title.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// Headline numbers.
    pub cards: Vec<Card>,
    /// Every index chart, drawn or omitted.
    pub charts: Vec<ChartSlot>,
    /// Baseline-versus-candidate verdicts.
    pub comparisons: Vec<ComparisonView>,
    /// Regression gates.
    pub regressions: Vec<RegressionRow>,
    /// Every run.
    pub runs: Vec<RunRow>,
    /// Validity summary and issues.
    pub validity: ValidityView,
    /// Max-QPS searches.
    pub max_qps: Vec<MaxQpsRow>,
    /// Multi-model interference ratios.
    pub interference: Vec<InterferenceRow>,
    /// Model variants with fidelity.
    pub variants: Vec<VariantRow>,
    /// The optimization record.
    pub optimization: Option<OptimizationView>,
    /// Per-op profiles.
    pub profiles: Vec<ProfileView>,
    /// Environment fingerprints.
    pub environments: Vec<EnvironmentView>,
    /// Drift summary.
    pub drift: Option<DriftView>,
    /// Remarks from the input (measurements that could not be made, ...).
    pub notes: Vec<String>,
}

fn cards(ds: &Dataset<'_>, v: &ValidityView, invalid: usize) -> Vec<Card> {
    let mut cards = Vec::new();
    if let Some(c) = ds.comparisons.first() {
        let (word, tone) = verdict::verdict(c.verdict);
        cards.push(Card {
            label: format!("{} vs {}", c.candidate, c.baseline),
            value: format!(
                "{} {}",
                format::ratio(c.speedup.estimate),
                word.to_lowercase()
            ),
            detail: format!(
                "{} CI {}–{} · {} rounds",
                format::pct(c.speedup.confidence, 0),
                format::fixed(c.speedup.lo, 3),
                format::fixed(c.speedup.hi, 3),
                c.rounds
            ),
            tone: if tone == "info" { "" } else { tone },
        });
    }
    let latency_runs = ds.latency_runs();
    let candidate = ds
        .comparisons
        .first()
        .and_then(|c| latency_runs.iter().find(|e| e.run.label == c.candidate))
        .or(latency_runs.first());
    if let Some(e) = candidate {
        cards.push(Card {
            label: format!("p90 latency · {}", e.run.label),
            value: format::us(e.run.latency.p90_us),
            detail: format!(
                "p99 {} · {} items/s",
                format::us(e.run.latency.p99_us),
                format::rate(e.run.throughput.items_per_s)
            ),
            tone: "",
        });
    }
    if let Some(m) = ds.max_qps.first() {
        cards.push(Card {
            label: format!("max QPS · {}", m.target),
            value: format::rate(m.max_qps),
            detail: format!(
                "{} ≤ {} · {}",
                format::percentile(m.slo.percentile),
                format::us(m.slo.latency_us),
                validity(&m.validity_run).0
            ),
            tone: validity(&m.validity_run).1,
        });
    }
    let total = ds.runs.len();
    let quick = ds
        .runs
        .iter()
        .filter(|e| e.run.validity.status == burnish_bench::ValidityStatus::Quick)
        .count();
    cards.push(Card {
        label: "valid runs".into(),
        value: format!("{} / {}", total - invalid - quick, total),
        detail: if quick > 0 {
            format!(
                "{quick} quick, {invalid} invalid, {} with issues",
                v.issues.len()
            )
        } else {
            format!("{} with issues", v.issues.len())
        },
        tone: v.tone,
    });
    if let Some(d) = &ds.input.drift {
        let drifted = d.verdict.status == burnish_drift::OverallStatus::Drift;
        cards.push(Card {
            label: "data drift".into(),
            value: if drifted { "drift" } else { "no drift" }.into(),
            detail: format!(
                "{} of {} features",
                d.verdict.drifted_features.len(),
                d.verdict.feature_count
            ),
            tone: if drifted { "bad" } else { "good" },
        });
    }
    cards
}

/// Builds the index context from the dataset and the chart slots.
pub fn page(ds: &Dataset<'_>, charts: Vec<ChartSlot>) -> IndexPage {
    let title = ds
        .input
        .title
        .clone()
        .unwrap_or_else(|| "burnish report".to_string());
    let (validity_view, invalid) = runs::validity_view(ds);
    let files = ds.input.results.len();
    let plain = ds
        .runs
        .iter()
        .filter(|e| e.source == RunSource::Run)
        .count();
    IndexPage {
        subtitle: format!(
            "{files} result file{} · {plain} run{} · {} comparison{}",
            if files == 1 { "" } else { "s" },
            if plain == 1 { "" } else { "s" },
            ds.comparisons.len(),
            if ds.comparisons.len() == 1 { "" } else { "s" },
        ),
        cards: cards(ds, &validity_view, invalid),
        title,
        charts,
        comparisons: ds
            .comparisons
            .iter()
            .map(|c| verdict::comparison(c))
            .collect(),
        regressions: verdict::regressions(ds),
        runs: runs::rows(ds),
        validity: validity_view,
        max_qps: load::max_qps(ds),
        interference: load::interference(ds),
        variants: variants(ds),
        optimization: optimization(ds.input.optimization.as_ref()),
        profiles: profiles(&ds.input.profiles),
        environments: environments(&ds.environments),
        drift: ds.input.drift.as_ref().map(drift),
        notes: ds.input.notes.clone(),
    }
}
