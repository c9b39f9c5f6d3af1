//! Fitting the measurements into a time budget.
//!
//! Each variant's batch-1 latency is measured before the scenarios start; from it every step
//! of the plan gets an estimated wall time (a query of batch `b` costs `b` single inferences;
//! closed loops share the cores, so their queries cost one inference each; max-QPS trials at
//! rates below capacity take about twice as long as a closed loop). When the plan does not fit
//! the time left, every run is shortened by one factor ([`MeasurePlan::scaled`]); when even
//! the shortest runs do not fit, the largest offline batches and concurrency levels go, each
//! with a note. Before the max-QPS search, when the steps so far ran past their estimates,
//! the remaining steps are shortened again at that pace ([`refit`]).

use std::time::{Duration, Instant};

use burnish_bench::RunLimits;

use crate::plan::MeasurePlan;
use burnish_eval::ModelTarget;

/// Seconds left for writing results and the report after the measurements.
const REPORT_RESERVE_S: f64 = 3.0;

/// One step of the measurements, on every variant in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Single-stream.
    SingleStream,
    /// Offline at a batch size.
    Offline(usize),
    /// Closed loop with a number of outstanding queries.
    Concurrency(usize),
    /// The server max-QPS search and its validity run.
    MaxQps,
    /// Baseline-versus-candidate comparisons.
    Compare,
}

impl Step {
    /// `offline batch 8`, ...
    pub fn describe(self) -> String {
        match self {
            Self::SingleStream => "single-stream".into(),
            Self::Offline(b) => format!("offline batch {b}"),
            Self::Concurrency(c) => format!("concurrency {c}"),
            Self::MaxQps => "server max-QPS search".into(),
            Self::Compare => "A/B comparison rounds".into(),
        }
    }
}

/// The steps of `plan`, in the order they run.
pub fn steps(plan: &MeasurePlan) -> Vec<Step> {
    let mut out = vec![Step::SingleStream];
    out.extend(plan.offline_batches.iter().map(|&b| Step::Offline(b)));
    out.extend(
        plan.concurrency_levels
            .iter()
            .map(|&c| Step::Concurrency(c)),
    );
    out.push(Step::MaxQps);
    out.push(Step::Compare);
    out
}

/// Estimated wall time of one run: warm-up, then the longer of the minimum duration and the
/// minimum queries at `query_s` each, cut at the maximum duration.
fn run_s(l: &RunLimits, query_s: f64) -> f64 {
    let main = l
        .min_duration
        .as_secs_f64()
        .max(l.min_queries as f64 * query_s);
    let main = l.max_duration.map_or(main, |m| main.min(m.as_secs_f64()));
    l.warmup_queries as f64 * query_s + main
}

/// Estimated seconds of `step` on variants with batch-1 latencies `latency_s`.
pub fn step_s(plan: &MeasurePlan, latency_s: &[f64], step: Step) -> f64 {
    let each = |f: &dyn Fn(f64) -> f64| latency_s.iter().map(|&t| f(t)).sum::<f64>();
    match step {
        Step::SingleStream => each(&|t| run_s(&plan.single_stream, t)),
        Step::Offline(b) => each(&|t| run_s(&plan.offline, t * b as f64)),
        Step::Concurrency(_) => each(&|t| run_s(&plan.concurrency, t)),
        Step::MaxQps => each(&|t| {
            // The search's runs last at least a few SLOs (a derived SLO is a few p99s).
            let slo_s = plan
                .slo
                .map_or(plan.slo_factor * 1.5 * t, |s| s.latency_us / 1e6)
                .max(1e-3);
            let floor = std::time::Duration::from_secs_f64(
                slo_s * f64::from(burnish_bench::MIN_SLOS_PER_RUN),
            );
            let at_least = |l: &RunLimits| RunLimits {
                min_duration: l.min_duration.max(floor),
                ..*l
            };
            run_s(&burnish_bench::capacity_probe_limits(), t)
                + plan.server_max_trials as f64 * run_s(&at_least(&plan.server_trial), 2.0 * t)
                + run_s(&at_least(&plan.server), 2.0 * t)
        }),
        Step::Compare => {
            let base = latency_s.first().copied().unwrap_or(0.0);
            let rounds = plan.compare_rounds.max(2) as f64;
            latency_s
                .iter()
                .skip(1)
                .map(|&t| {
                    rounds * (run_s(&plan.compare_round, base) + run_s(&plan.compare_round, t))
                })
                .sum()
        }
    }
}

/// Estimated seconds of the whole plan, per-op profiles included.
pub fn plan_s(plan: &MeasurePlan, latency_s: &[f64]) -> f64 {
    let profile: f64 = latency_s.iter().sum::<f64>() * (plan.profile_runs + 1) as f64;
    profile
        + steps(plan)
            .into_iter()
            .map(|s| step_s(plan, latency_s, s))
            .sum::<f64>()
}

/// The median of three timed batch-1 inferences of `t`, seconds (the first inference, with
/// its one-off costs, has already run).
pub fn latency_s(t: &ModelTarget) -> Result<f64, burnish_bench::TargetError> {
    use burnish_bench::Target;
    let mut times = Vec::with_capacity(3);
    for _ in 0..3 {
        let start = Instant::now();
        t.infer(1)?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}

/// `plan` fitted into `left` (wall time left for profiles and measurements), with a note for
/// every change.
pub fn fit(plan: &MeasurePlan, latency_s: &[f64], left: Duration) -> (MeasurePlan, Vec<String>) {
    let left_s = (left.as_secs_f64() - REPORT_RESERVE_S).max(1.0);
    let full_s = plan_s(plan, latency_s);
    if full_s <= left_s {
        return (plan.clone(), Vec::new());
    }
    let mut notes = Vec::new();
    let mut base = plan.clone();
    const FLOOR: f64 = 0.05;
    loop {
        if plan_s(&base.scaled(FLOOR), latency_s) <= left_s {
            break;
        }
        let batch = base
            .offline_batches
            .iter()
            .copied()
            .max()
            .filter(|_| base.offline_batches.len() > 1);
        let level = base
            .concurrency_levels
            .iter()
            .copied()
            .max()
            .filter(|_| base.concurrency_levels.len() > 1);
        if let Some(b) = batch {
            base.offline_batches.retain(|&x| x != b);
            notes.push(format!("offline batch {b} left out to fit the time budget"));
        } else if let Some(c) = level {
            base.concurrency_levels.retain(|&x| x != c);
            notes.push(format!("concurrency {c} left out to fit the time budget"));
        } else {
            break;
        }
    }
    let (mut lo, mut hi) = (FLOOR, 1.0);
    for _ in 0..20 {
        let mid = 0.5 * (lo + hi);
        if plan_s(&base.scaled(mid), latency_s) <= left_s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let fitted = base.scaled(lo);
    let fitted_s = plan_s(&fitted, latency_s);
    notes.push(format!(
        "runs shortened to {:.0}% of the quick plan to fit {} left of the time budget \
         (estimated {} instead of {}); `--time-budget` sets the budget",
        lo * 100.0,
        clock(left.as_secs_f64()),
        clock(fitted_s),
        clock(full_s)
    ));
    if fitted_s > left_s {
        notes.push(format!(
            "even the shortest runs need about {}: the pipeline will overrun its budget",
            clock(fitted_s)
        ));
    }
    (fitted, notes)
}

/// Before the remaining `steps`, `plan` shortened so that their estimates, times `pace` (how
/// much longer the steps so far took than estimated, at least 1), fit `left`; `None` when
/// they already fit. The note says by how much.
pub fn refit(
    plan: &MeasurePlan,
    latency_s: &[f64],
    steps: &[Step],
    pace: f64,
    left: Duration,
) -> Option<(MeasurePlan, String)> {
    let left_s = (left.as_secs_f64() - REPORT_RESERVE_S).max(0.0);
    let pace = pace.max(1.0);
    let need = |p: &MeasurePlan| pace * steps.iter().map(|&s| step_s(p, latency_s, s)).sum::<f64>();
    let before = need(plan);
    if before <= left_s {
        return None;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..20 {
        let mid = 0.5 * (lo + hi);
        if need(&plan.scaled(mid)) <= left_s {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let scale = lo.max(0.05);
    let fitted = plan.scaled(scale);
    let note = format!(
        "the steps so far ran {:.0}% over their estimates: the last {} shortened to {:.0}% to \
         fit {} left (estimated {} instead of {})",
        (pace - 1.0) * 100.0,
        steps.len(),
        scale * 100.0,
        clock(left_s),
        clock(need(&fitted)),
        clock(before)
    );
    Some((fitted, note))
}

/// `1m05s`, `42s`.
pub fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_that_fits_is_kept() {
        let plan = MeasurePlan::quick();
        let (fitted, notes) = fit(&plan, &[1e-4, 1e-4], Duration::from_secs(600));
        assert_eq!(fitted, plan);
        assert!(notes.is_empty());
    }

    #[test]
    fn a_slow_model_gets_shorter_runs_within_the_budget() {
        let plan = MeasurePlan::quick();
        let lat = [0.1, 0.1, 0.08];
        assert!(plan_s(&plan, &lat) > 150.0);
        let (fitted, notes) = fit(&plan, &lat, Duration::from_secs(150));
        assert!(plan_s(&fitted, &lat) <= 150.0 - REPORT_RESERVE_S + 1e-6);
        assert!(fitted.single_stream.min_queries < plan.single_stream.min_queries);
        assert!(fitted.single_stream.min_queries >= 8);
        assert!(!notes.is_empty());
    }

    #[test]
    fn big_batches_go_first_when_even_the_shortest_runs_do_not_fit() {
        let plan = MeasurePlan::quick();
        let lat = [1.0, 1.0];
        let (fitted, notes) = fit(&plan, &lat, Duration::from_secs(120));
        assert!(
            !fitted.offline_batches.contains(&32),
            "{:?}",
            fitted.offline_batches
        );
        assert!(fitted.offline_batches.contains(&1));
        assert!(
            notes.iter().any(|n| n.contains("offline batch 32")),
            "{notes:?}"
        );
    }

    #[test]
    fn a_late_pace_shortens_the_remaining_steps_to_the_time_left() {
        let plan = MeasurePlan::quick();
        let lat = [0.05, 0.05, 0.03];
        let rest = [Step::MaxQps, Step::Compare];
        let need = |p: &MeasurePlan| rest.iter().map(|&s| step_s(p, &lat, s)).sum::<f64>();
        let left = Duration::from_secs_f64(need(&plan) + REPORT_RESERVE_S + 0.01);
        assert!(refit(&plan, &lat, &rest, 1.0, left).is_none());
        let (fitted, note) = refit(&plan, &lat, &rest, 1.5, left).expect("shortened");
        assert!(1.5 * need(&fitted) <= need(&plan) + 0.01, "{note}");
        assert!(fitted.server_trial.min_duration < plan.server_trial.min_duration);
        assert!(note.contains("50% over"), "{note}");
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(65.2), "1m05s");
        assert_eq!(clock(42.0), "42s");
    }
}
