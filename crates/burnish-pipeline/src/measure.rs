//! The measurements: every scenario on every variant, interleaved (for each scenario step,
//! each variant in turn, the order reversed on every other step so that drift and order
//! effects hit all variants alike), then baseline-versus-candidate comparisons in ABAB rounds.

use std::time::Duration;

use burnish_bench::{
    BenchError, BenchFile, CompareConfig, ConcurrencyConfig, LoadGen, MaxQpsConfig, OfflineConfig,
    RunResult, ServerConfig, SingleStreamConfig, Slo, Target,
};

use crate::error::PipelineError;
use crate::plan::MeasurePlan;
use crate::target::ModelTarget;

/// Variant indices for interleaving step `step`: forward on even steps, reversed on odd ones.
pub fn interleaved(count: usize, step: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..count).collect();
    if step % 2 == 1 {
        order.reverse();
    }
    order
}

/// Runs the plan on `targets` (the first is the baseline) into `file`; returns the SLO used
/// for the server searches. A max-QPS search that finds no rate meeting the SLO does not
/// stop the pipeline: it is recorded in `notes` instead.
pub fn measure(
    lg: &LoadGen,
    targets: &[&ModelTarget],
    plan: &MeasurePlan,
    file: &mut BenchFile,
    notes: &mut Vec<String>,
) -> Result<Slo, PipelineError> {
    let mut step = 0;
    let mut each = |f: &mut dyn FnMut(&ModelTarget) -> Result<(), PipelineError>| {
        for i in interleaved(targets.len(), step) {
            f(targets[i])?;
        }
        step += 1;
        Ok::<(), PipelineError>(())
    };

    let mut single = Vec::new();
    each(&mut |t| {
        let run = lg
            .single_stream(t, &SingleStreamConfig::new(plan.single_stream))
            .map_err(PipelineError::bench(t.name(), "single-stream"))?;
        single.push(run);
        Ok(())
    })?;
    let slo = match plan.slo {
        Some(slo) => slo,
        None => {
            let slo = derived_slo(&single, targets[0].name(), plan.slo_factor);
            notes.push(format!(
                "server SLO {}: {}x the baseline's single-stream p99 (at least 1 ms); \
                 set it with --slo-p99",
                describe_slo(&slo),
                plan.slo_factor
            ));
            slo
        }
    };
    file.runs.extend(single);

    for &batch in &plan.offline_batches {
        if !targets.iter().all(|t| t.accepts_batch(batch)) {
            continue;
        }
        each(&mut |t| {
            let cfg = OfflineConfig::new(1, vec![batch], plan.offline);
            let runs = lg
                .offline(t, &cfg)
                .map_err(PipelineError::bench(t.name(), "offline"))?;
            file.runs.extend(runs);
            Ok(())
        })?;
    }

    for &level in &plan.concurrency_levels {
        each(&mut |t| {
            let cfg = ConcurrencyConfig::new(vec![level], plan.concurrency);
            let runs = lg
                .concurrency_sweep(t, &cfg)
                .map_err(PipelineError::bench(t.name(), "concurrency"))?;
            file.runs.extend(runs);
            Ok(())
        })?;
    }

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
            Err(e) => return Err(PipelineError::bench(t.name(), "server max-QPS search")(e)),
        }
        Ok(())
    })?;

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
    Ok(slo)
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
