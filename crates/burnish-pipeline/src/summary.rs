//! The console summary of a finished pipeline.

use std::fmt::Write;

use burnish_bench::{ScenarioKind, ValidityStatus, Verdict};

use crate::measure::describe_slo;
use crate::run::PipelineOutcome;

impl PipelineOutcome {
    /// A few lines for the console: per variant its single-stream p50/p99, best offline
    /// throughput, max QPS at the SLO, fidelity (cosine, top-1 agreement, whether it follows
    /// the baseline) and accuracy; each comparison's verdict; where the report is.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let file = &self.input.results[0];
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>9} {:>12} {:>14} {:>9} {:>8} {:>9} {:>9}",
            "variant",
            "p50 (ms)",
            "p99 (ms)",
            "best items/s",
            "max QPS",
            "cosine",
            "top-1",
            "fidelity",
            "accuracy"
        );
        for v in &self.input.variants {
            let single = file
                .runs
                .iter()
                .find(|r| r.target == v.label && r.scenario == ScenarioKind::SingleStream);
            let best = file
                .runs
                .iter()
                .filter(|r| r.target == v.label && r.scenario == ScenarioKind::Offline)
                .map(|r| r.throughput.items_per_s)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
            let qps = file.max_qps.iter().find(|m| m.target == v.label);
            let f = v.fidelity.as_ref();
            let _ = writeln!(
                out,
                "{:<14} {:>9} {:>9} {:>12} {:>14} {:>9} {:>8} {:>9} {:>9}",
                v.label,
                single.map_or("-".into(), |r| format!("{:.3}", r.latency.p50_us / 1e3)),
                single.map_or("-".into(), |r| format!("{:.3}", r.latency.p99_us / 1e3)),
                best.map_or("-".into(), |b| format!("{b:.1}")),
                qps.map_or("-".into(), |m| match m.validity_run.validity.status {
                    ValidityStatus::Valid => format!("{:.1}", m.max_qps),
                    status => format!("{:.1} {}", m.max_qps, status.as_str()),
                }),
                f.map_or("-".into(), |f| format!("{:.5}", f.cosine)),
                f.and_then(|f| f.top1_agreement)
                    .map_or("-".into(), |t| format!("{:.1}%", t * 100.0)),
                f.map_or("-", |f| if f.follows_reference() {
                    "follows"
                } else {
                    "DRIFTS"
                }),
                v.accuracy
                    .map_or("-".into(), |a| format!("{:.2}%", a * 100.0)),
            );
        }
        let _ = writeln!(out, "server SLO: {}", describe_slo(&self.slo));
        for n in &self.input.notes {
            let _ = writeln!(out, "note: {n}");
        }
        for c in &file.comparisons {
            let word = match c.verdict {
                Verdict::Faster => "faster",
                Verdict::Slower => "slower",
                Verdict::Equivalent => "equivalent",
                Verdict::Inconclusive => "inconclusive",
            };
            let _ = writeln!(
                out,
                "{} vs {}: {:.3}x ({word}), {:.0}% CI [{:.3}, {:.3}], {} rounds",
                c.candidate,
                c.baseline,
                c.speedup.estimate,
                c.speedup.confidence * 100.0,
                c.speedup.lo,
                c.speedup.hi,
                c.rounds
            );
        }
        let runs = || {
            file.runs
                .iter()
                .chain(file.max_qps.iter().map(|m| &m.validity_run))
        };
        let invalid = runs().filter(|r| r.is_invalid()).count();
        let quick = runs()
            .filter(|r| r.validity.status == ValidityStatus::Quick)
            .count();
        if invalid > 0 {
            let _ = writeln!(
                out,
                "{invalid} run(s) INVALID: see the report's validity section"
            );
        }
        if quick > 0 {
            let _ = writeln!(
                out,
                "{quick} run(s) QUICK: a quick look, too short for LoadGen's early-stopping \
                 rules (`--full` runs LoadGen's lengths)"
            );
        }
        let _ = writeln!(out, "results: {}", self.results.display());
        let _ = write!(out, "report: {}", self.report.index.display());
        out
    }
}
