//! The measurements: every scenario on every variant, interleaved (for each scenario step,
//! each variant in turn, the order reversed on every other step so that drift and order
//! effects hit all variants alike), then baseline-versus-candidate comparisons in ABAB rounds.

use std::time::{Duration, Instant};

use burnish_bench::{
    BenchError, BenchFile, CompareConfig, ConcurrencyConfig, LoadGen, MaxQpsConfig, OfflineConfig,
    RunResult, ServerConfig, SingleStreamConfig, Slo, Target,
};

use crate::budget::{self, Step};
use crate::error::PipelineError;
use crate::plan::MeasurePlan;
use crate::tracker::{StepTime, Tracker};
use burnish_eval::ModelTarget;

/// Variant indices for interleaving step `step`: forward on even steps, reversed on odd ones.
pub fn interleaved(count: usize, step: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    if step % 2 == 1 {
        order.reverse();
    }
    order
}

/// What the measurements concluded besides the results.
#[derive(Debug)]
pub struct Measured {
    /// The SLO of the server searches.
    pub slo: Slo,
    /// Notes for the report: the derived SLO, skipped batch sizes, searches that found no rate.
    pub notes: Vec<String>,
    /// Each step's estimate and wall time.
    pub steps: Vec<StepTime>,
}

/// Runs the plan on `targets` (the first is the baseline) into `file`, announcing every step
/// with what is left (`latency_s`: each target's batch-1 latency, for the estimates; `budget`:
/// when the pipeline started and its budget). A batch size a variant cannot take is skipped
/// with its reason, and a max-QPS search that finds no rate meeting the SLO is a note: neither
/// stops the pipeline.
pub fn measure(
    lg: &LoadGen,
    targets: &[&ModelTarget],
    plan: &MeasurePlan,
    file: &mut BenchFile,
    latency_s: &[f64],
    budget: Option<(Instant, Duration)>,
) -> Result<Measured, PipelineError> {
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    let steps: Vec<Step> = budget::steps(plan)
        .into_iter()
        .filter(|s| match s {
            Step::Offline(b) => match batch_support(targets, *b) {
                Ok(()) => true,
                Err(reason) => {
                    skipped.push(format!("offline batch {b} skipped: {reason}"));
                    false
                }
            },
            Step::Compare => targets.len() > 1,
            _ => true,
        })
        .collect();
    for s in &skipped {
        lg.progress().note(s);
    }
    notes.extend(skipped);
    let estimates = steps
        .iter()
        .map(|&s| budget::step_s(plan, latency_s, s))
        .collect();
    let mut tracker = Tracker::new(lg.progress(), estimates, budget);
    let mut round = 0;
    let mut each = |f: &mut dyn FnMut(&ModelTarget) -> Result<(), PipelineError>| {
        for i in interleaved(targets.len(), round) {
            f(targets[i])?;
        }
        round += 1;
        Ok::<(), PipelineError>(())
    };

    let mut slo = plan.slo;
    let mut plan = plan.clone();
    for (k, &step) in steps.iter().enumerate() {
        // The two longest steps come last: when the ones before ran long, shorten them.
        if matches!(step, Step::MaxQps)
            && let Some(left) = tracker.left()
            && let Some((fitted, note)) =
                budget::refit(&plan, latency_s, &steps[k..], tracker.pace(), left)
        {
            lg.progress().note(&note);
            notes.push(note);
            plan = fitted;
        }
        let plan = &plan;
        tracker.step(&format!(
            "{} ({} variant(s))",
            step.describe(),
            targets.len()
        ));
        match step {
            Step::SingleStream => {
                let mut single = Vec::new();
                each(&mut |t| {
                    let run = lg
                        .single_stream(t, &SingleStreamConfig::new(plan.single_stream))
                        .map_err(PipelineError::bench(t.name(), "single-stream"))?;
                    single.push(run);
                    Ok(())
                })?;
                if slo.is_none() {
                    let derived = derived_slo(&single, targets[0].name(), plan.slo_factor);
                    notes.push(format!(
                        "server SLO {}: {}x the baseline's single-stream p99 (at least 1 ms); \
                         set it with --slo-p99",
                        describe_slo(&derived),
                        plan.slo_factor
                    ));
                    slo = Some(derived);
                }
                file.runs.extend(single);
            }
            Step::Offline(batch) => each(&mut |t| {
                let cfg = OfflineConfig::new(1, vec![batch], plan.offline);
                let runs = lg
                    .offline(t, &cfg)
                    .map_err(PipelineError::bench(t.name(), "offline"))?;
                file.runs.extend(runs);
                Ok(())
            })?,
            Step::Concurrency(level) => each(&mut |t| {
                let cfg = ConcurrencyConfig::new(vec![level], plan.concurrency);
                let runs = lg
                    .concurrency_sweep(t, &cfg)
                    .map_err(PipelineError::bench(t.name(), "concurrency"))?;
                file.runs.extend(runs);
                Ok(())
            })?,
            Step::MaxQps => {
                let slo = slo.unwrap_or_else(|| derived_slo(&[], "", plan.slo_factor));
                each(&mut |t| {
                    let mut cfg = MaxQpsConfig::new(ServerConfig::new(1.0, plan.server), slo);
                    cfg.trial_limits = plan.server_trial;
                    cfg.tolerance = plan.server_tolerance;
                    cfg.max_trials = plan.server_max_trials;
                    match lg.find_max_qps(t, &cfg) {
                        Ok(report) => file.max_qps.push(report),
                        Err(e @ BenchError::NoFeasibleRate { .. }) => notes.push(format!(
                            "server max-QPS search for `{}` found no rate meeting {}: {e}",
                            t.name(),
                            describe_slo(&slo)
                        )),
                        Err(e) => {
                            return Err(PipelineError::bench(t.name(), "server max-QPS search")(e));
                        }
                    }
                    Ok(())
                })?
            }
            Step::Compare => {
                let cfg = CompareConfig {
                    rounds: plan.compare_rounds.max(2),
                    round_limits: plan.compare_round,
                    ..CompareConfig::default()
                };
                for candidate in &targets[1..] {
                    let outcome = lg
                        .compare(targets[0], *candidate, &cfg)
                        .map_err(PipelineError::bench(candidate.name(), "comparison"))?;
                    file.runs.push(outcome.baseline);
                    file.runs.push(outcome.candidate);
                    file.comparisons.push(outcome.comparison);
                }
            }
        }
    }
    let slo = slo.unwrap_or_else(|| derived_slo(&[], "", plan.slo_factor));
    Ok(Measured {
        slo,
        notes,
        steps: tracker.finish(),
    })
}

/// Whether every target takes a batch of `batch`: its declared batch, then one inference.
fn batch_support(targets: &[&ModelTarget], batch: usize) -> Result<(), String> {
    for t in targets {
        t.batch_support(batch).map_err(|e| e.to_string())?;
        if batch > 1 {
            t.prepare(batch)
                .and_then(|_| t.infer(batch))
                .map_err(|e| format!("`{}` cannot run it: {}", t.name(), e.message))?;
        }
    }
    Ok(())
}

/// `p99 <= 1.2 ms`.
pub fn describe_slo(slo: &Slo) -> String {
    format!(
        "p{} <= {:.3} ms",
        slo.percentile * 100.0,
        slo.latency_us / 1e3
    )
}

/// `factor` times the baseline's single-stream p99, rounded up to two significant digits
/// (at least 1 ms: below that, scheduler hiccups on a shared machine decide the p99).
pub fn derived_slo(single: &[RunResult], baseline: &str, factor: f64) -> Slo {
    let p99 = single
        .iter()
        .find(|r| r.target == baseline)
        .map_or(10_000.0, |r| r.latency.p99_us);
    let us = round_up_2sig((p99 * factor).max(1000.0));
    Slo::p99(Duration::from_secs_f64(us / 1e6))
}

fn round_up_2sig(x: f64) -> f64 {
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    (x / scale).ceil() * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_alternates_direction() {
        assert_eq!(interleaved(3, 0), [0, 1, 2]);
        assert_eq!(interleaved(3, 1), [2, 1, 0]);
        assert_eq!(interleaved(1, 1), [0]);
    }

    #[test]
    fn slo_rounds_up_to_two_significant_digits() {
        assert_eq!(round_up_2sig(1234.0), 1300.0);
        assert_eq!(round_up_2sig(100.0), 100.0);
        assert_eq!(round_up_2sig(99.1), 100.0);
    }
}
