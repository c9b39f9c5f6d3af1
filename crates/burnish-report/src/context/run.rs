//! The context of a run page.

use burnish_bench::RunResult;
use serde::Serialize;

use super::{Card, Kv, kv, validity};
use crate::charts::ChartSlot;
use crate::dataset::RunEntry;
use crate::format::{self, NONE};

/// Everything a run page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPage {
    /// The report's title, for the back link.
    pub report_title: String,
    /// The run's label.
    pub label: String,
    /// Target name.
    pub target: String,
    /// Scenario name.
    pub scenario: &'static str,
    /// Where the run came from.
    pub source: &'static str,
    /// `VALID`, `QUICK` or `INVALID`.
    pub status: &'static str,
    /// Tone of the status.
    pub tone: &'static str,
    /// One sentence about the status.
    pub status_text: String,
    /// Why the run is invalid.
    pub reasons: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// A quick run's shortfalls and what `--full` would add.
    pub quick: Vec<String>,
    /// Headline numbers.
    pub cards: Vec<Card>,
    /// Early stopping, when computed.
    pub early_stopping: Option<Vec<Kv>>,
    /// Latency statistics.
    pub latency: Vec<Kv>,
    /// Run settings.
    pub settings: Vec<Kv>,
    /// CPU and memory.
    pub resources: Vec<Kv>,
    /// Server specifics.
    pub server: Option<Vec<Kv>>,
    /// Cold-start facts.
    pub cold_start: Option<Vec<Kv>>,
    /// The CDF chart.
    pub chart: ChartSlot,
}

fn opt_u64(v: Option<u64>, f: fn(u64) -> String) -> String {
    v.map_or_else(|| NONE.to_string(), f)
}

fn latency(r: &RunResult) -> Vec<Kv> {
    let l = &r.latency;
    vec![
        kv("min", format::us(l.min_us)),
        kv("p50", format::us(l.p50_us)),
        kv("p90", format::us(l.p90_us)),
        kv("p95", format::us(l.p95_us)),
        kv("p99", format::us(l.p99_us)),
        kv("p99.9", format::us(l.p999_us)),
        kv("max", format::us(l.max_us)),
        kv("mean", format::us(l.mean_us)),
        kv("standard deviation", format::us(l.stddev_us)),
        kv("coefficient of variation", format::pct(l.cv, 1)),
        kv("latencies recorded", format::count(l.count)),
        kv("raw samples kept", format::count(r.samples_us.len() as u64)),
    ]
}

fn settings(r: &RunResult) -> Vec<Kv> {
    let s = &r.settings;
    let mut rows = vec![
        kv("batch", s.batch.to_string()),
        kv("workers", s.workers.to_string()),
        kv(
            "intra-op threads",
            s.intra_op_threads
                .map_or(NONE.to_string(), |t| t.to_string()),
        ),
        kv(
            "minimum duration",
            format!("{} s", format::fixed(s.min_duration_s, 2)),
        ),
        kv("minimum queries", format::count(s.min_queries)),
        kv(
            "maximum duration",
            s.max_duration_s
                .map_or(NONE.to_string(), |d| format!("{} s", format::fixed(d, 2))),
        ),
        kv("warm-up queries", format::count(s.warmup_queries)),
        kv("seed", s.seed.to_string()),
    ];
    if let Some(q) = s.target_qps {
        rows.push(kv("target QPS", format::rate(q)));
    }
    if let Some(slo) = &s.slo {
        rows.push(kv(
            "SLO",
            format!(
                "{} ≤ {}",
                format::percentile(slo.percentile),
                format::us(slo.latency_us)
            ),
        ));
    }
    rows
}

fn resources(r: &RunResult) -> Vec<Kv> {
    let u = &r.resources;
    vec![
        kv("CPU time", format::opt(u.cpu_seconds, 3) + " s"),
        kv(
            "CPU utilization",
            format::opt(u.cpu_utilization_pct, 1) + " %",
        ),
        kv(
            "items per CPU-second",
            u.items_per_cpu_second
                .map_or(NONE.to_string(), format::rate),
        ),
        kv(
            "peak RSS (process)",
            opt_u64(u.peak_rss_bytes, format::bytes),
        ),
        kv(
            "load average at start",
            format::opt(u.load_avg_1m_at_start, 2),
        ),
        kv("cores", u.cores.to_string()),
    ]
}

/// Builds the page of `entry`.
pub fn page(entry: &RunEntry<'_>, report_title: &str, chart: ChartSlot) -> RunPage {
    let r = entry.run;
    let (status, tone) = validity(r);
    let v = &r.validity;
    let status_text = match v.status {
        burnish_bench::ValidityStatus::Valid => "Every requirement of the run was met.".to_string(),
        burnish_bench::ValidityStatus::Quick => {
            "A quick look: nothing failed, but the run is too short for LoadGen's rules:"
                .to_string()
        }
        burnish_bench::ValidityStatus::Invalid => {
            format!("{} requirement(s) failed:", v.reasons.len())
        }
    };
    let early_stopping = v.early_stopping.as_ref().map(|es| {
        let mut rows = vec![
            kv("estimated percentile", format::percentile(es.percentile)),
            kv("confidence", format::pct(es.confidence, 0)),
            kv("upper bound", format::opt_us(es.estimate_us)),
            kv(
                "queries needed for an estimate",
                format::count(es.min_queries_for_estimate),
            ),
        ];
        if let Some(over) = es.overlatency_queries {
            rows.push(kv("queries over the SLO", format::count(over)));
        }
        if let Some(met) = es.criterion_met {
            rows.push(kv("SLO established", if met { "yes" } else { "no" }));
        }
        if let Some(more) = es.additional_queries_needed {
            rows.push(kv("more queries needed", format::count(more)));
        }
        rows
    });
    let server = r.server.as_ref().map(|s| {
        vec![
            kv("scheduled queries", format::count(s.scheduled_queries)),
            kv(
                "scheduled rate",
                format!("{} qps", format::rate(s.scheduled_qps)),
            ),
            kv(
                "completed rate",
                format!("{} qps", format::rate(s.completed_qps)),
            ),
            kv("dropped queries", format::count(s.dropped_queries)),
            kv(
                "lateness p50 / p99",
                format!(
                    "{} / {}",
                    format::us(s.lateness.p50_us),
                    format::us(s.lateness.p99_us)
                ),
            ),
            kv(
                "queueing wait p50 / p99",
                format!(
                    "{} / {}",
                    format::us(s.wait.p50_us),
                    format::us(s.wait.p99_us)
                ),
            ),
        ]
    });
    let cold_start = r.cold_start.as_ref().map(|c| {
        vec![
            kv("model load", format::opt(c.model_load_ms, 2) + " ms"),
            kv(
                "first inference",
                format::opt(c.first_inference_ms, 2) + " ms",
            ),
            kv("model file", opt_u64(c.model_file_bytes, format::bytes)),
            kv(
                "parameters in memory",
                opt_u64(c.parameter_bytes, format::bytes),
            ),
        ]
    });
    let cards = vec![
        Card {
            label: "p50 latency".into(),
            value: format::us(r.latency.p50_us),
            detail: format!("p99 {}", format::us(r.latency.p99_us)),
            tone: "",
        },
        Card {
            label: "throughput".into(),
            value: format!("{} items/s", format::rate(r.throughput.items_per_s)),
            detail: format!("{} queries/s", format::rate(r.throughput.queries_per_s)),
            tone: "",
        },
        Card {
            label: "queries".into(),
            value: format::count(r.queries),
            detail: format!("over {} s", format::fixed(r.duration_s, 2)),
            tone: "",
        },
        Card {
            label: "result".into(),
            value: status.into(),
            detail: format!("{} warning(s)", v.warnings.len()),
            tone,
        },
    ];
    RunPage {
        report_title: report_title.to_string(),
        label: r.label.clone(),
        target: r.target.clone(),
        scenario: r.scenario.as_str(),
        source: entry.source.as_str(),
        status,
        tone,
        status_text,
        reasons: v.reasons.clone(),
        warnings: v.warnings.clone(),
        quick: v.quick.clone(),
        cards,
        early_stopping,
        latency: latency(r),
        settings: settings(r),
        resources: resources(r),
        server,
        cold_start,
        chart,
    }
}
