//! Human-readable summaries for the terminal.

use std::fmt::Write;

use crate::compare::Comparison;
use crate::file::BenchFile;
use crate::regression::RegressionReport;
use crate::result::RunResult;
use crate::scenario::{MaxQpsReport, MultiModelReport};

/// A latency in the most readable unit: `850ns`, `12.3µs`, `4.56ms`, `1.23s`.
pub fn format_us(us: f64) -> String {
    if us < 1.0 {
        format!("{:.0}ns", us * 1e3)
    } else if us < 1e3 {
        format!("{us:.1}µs")
    } else if us < 1e6 {
        format!("{:.2}ms", us / 1e3)
    } else {
        format!("{:.2}s", us / 1e6)
    }
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let parts: Vec<String> = cells
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = w.saturating_sub(c.chars().count());
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", parts.join("  ").trim_end());
    };
    line(&mut out, &mut header.iter().copied());
    let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
    let _ = writeln!(out, "{}", "-".repeat(total));
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

/// A table of runs: throughput, latency percentiles, CPU and validity; then the reasons and
/// warnings of each run that has any.
pub fn render_runs(runs: &[RunResult]) -> String {
    let header = [
        "run", "scenario", "batch", "workers", "queries", "items/s", "p50", "p90", "p99", "p99.9",
        "max", "cpu%", "result",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let l = &r.latency;
            vec![
                r.label.clone(),
                r.scenario.as_str().to_string(),
                r.settings.batch.to_string(),
                r.settings.workers.to_string(),
                r.queries.to_string(),
                format!("{:.1}", r.throughput.items_per_s),
                format_us(l.p50_us),
                format_us(l.p90_us),
                format_us(l.p99_us),
                format_us(l.p999_us),
                format_us(l.max_us),
                r.resources
                    .cpu_utilization_pct
                    .map_or("-".to_string(), |c| format!("{c:.0}")),
                r.validity.status.as_str().to_string(),
            ]
        })
        .collect();
    let mut out = table(&header, &rows);
    for r in runs {
        if let Some(s) = &r.server {
            let _ = writeln!(
                out,
                "{}: scheduled {:.1} qps, completed {:.1} qps, lateness p99 {}, dropped {}",
                r.label,
                s.scheduled_qps,
                s.completed_qps,
                format_us(s.lateness.p99_us),
                s.dropped_queries
            );
        }
        if let Some(es) = r.validity.early_stopping.as_ref()
            && let Some(e) = es.estimate_us
        {
            let _ = writeln!(
                out,
                "{}: early-stopping p{} estimate {} ({:.0}% confidence)",
                r.label,
                es.percentile * 100.0,
                format_us(e),
                es.confidence * 100.0
            );
        }
        for reason in &r.validity.reasons {
            let _ = writeln!(out, "{}: INVALID: {reason}", r.label);
        }
        for q in &r.validity.quick {
            let _ = writeln!(out, "{}: QUICK: {q}", r.label);
        }
        for w in &r.validity.warnings {
            let _ = writeln!(out, "{}: warning: {w}", r.label);
        }
    }
    out
}

/// One block per comparison: verdict, speedup interval and per-percentile deltas.
pub fn render_comparison(c: &Comparison) -> String {
    let mut out = format!("{} vs {}: {}\n", c.candidate, c.baseline, c.summary);
    let rows: Vec<Vec<String>> = c
        .deltas
        .iter()
        .map(|d| {
            vec![
                d.name.clone(),
                format_us(d.baseline_us),
                format_us(d.candidate_us),
                format!("{:+.1}%", d.delta_pct),
            ]
        })
        .collect();
    if !rows.is_empty() {
        out.push_str(&table(&["stat", "baseline", "candidate", "delta"], &rows));
    }
    out
}

fn render_max_qps(m: &MaxQpsReport) -> String {
    format!(
        "{}: max {:.1} qps with p{} <= {} ({} trials), validity run {}\n",
        m.target,
        m.max_qps,
        m.slo.percentile * 100.0,
        format_us(m.slo.latency_us),
        m.trials.len(),
        m.validity_run.validity.status.as_str()
    )
}

fn render_multi_model(m: &MultiModelReport) -> String {
    let rows: Vec<Vec<String>> = m
        .interference
        .iter()
        .map(|i| {
            [i.p50, i.p90, i.p99, i.p999, i.mean, i.throughput]
                .iter()
                .map(|x| format!("{x:.2}x"))
                .fold(vec![i.label.clone()], |mut v, s| {
                    v.push(s);
                    v
                })
        })
        .collect();
    let mut out = String::from("interference (together / alone):\n");
    out.push_str(&table(
        &["model", "p50", "p90", "p99", "p99.9", "mean", "items/s"],
        &rows,
    ));
    out
}

fn render_regression(r: &RegressionReport) -> String {
    let mut out = format!(
        "regression gate {} -> {}: {}: {}\n",
        r.saved,
        r.new,
        match r.status {
            crate::regression::RegressionStatus::Regressed => "REGRESSED",
            crate::regression::RegressionStatus::Ok => "OK",
        },
        r.reason
    );
    for n in &r.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}

/// Everything in a result file, for stdout.
pub fn render_file(f: &BenchFile) -> String {
    let mut out = String::new();
    if let Some(env) = &f.environment {
        let _ = writeln!(
            out,
            "{} ({} cores, {}) {} {}",
            env.cpu_model.as_deref().unwrap_or("unknown CPU"),
            env.logical_cores,
            env.isa.names().join(" "),
            env.os,
            env.kernel.as_deref().unwrap_or("")
        );
    }
    if !f.runs.is_empty() {
        out.push_str(&render_runs(&f.runs));
    }
    for c in &f.comparisons {
        out.push_str(&render_comparison(c));
    }
    for m in &f.max_qps {
        out.push_str(&render_max_qps(m));
    }
    for m in &f.multi_model {
        out.push_str(&render_runs(
            &[m.alone.clone(), m.together.clone()].concat(),
        ));
        out.push_str(&render_multi_model(m));
    }
    for r in &f.regressions {
        out.push_str(&render_regression(r));
    }
    out
}
