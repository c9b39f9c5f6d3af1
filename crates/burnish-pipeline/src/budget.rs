//! Fitting the measurements into a time budget, and saying what runs and what is left.
//!
//! Each variant's batch-1 latency is measured before the scenarios start; from it every step
//! of the plan gets an estimated wall time (a query of batch `b` costs `b` single inferences;
//! closed loops share the cores, so their queries cost one inference each; max-QPS trials at
//! rates below capacity take about twice as long as a closed loop). When the plan does not fit
//! the time left, every run is shortened by one factor ([`MeasurePlan::scaled`]); when even
//! the shortest runs do not fit, the largest offline batches and concurrency levels go, each
//! with a note.

use std::time::{Duration, Instant};

use burnish_bench::{Progress, RunLimits};

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

/// `1m05s`, `42s`.
pub fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Says what runs and what is left: `[3/9] offline batch 8 · ~1m20s left (budget 3m00s)`.
pub struct Tracker<'a> {
    progress: &'a dyn Progress,
    total: usize,
    done: usize,
    estimates_s: Vec<f64>,
    start: Instant,
    budget: Option<(Instant, Duration)>,
    current: Option<(String, Instant)>,
    took: Vec<StepTime>,
}

/// One measured step: what it was, its estimate and what it took.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTime {
    /// The step, as announced.
    pub what: String,
    /// Estimated seconds.
    pub estimate_s: f64,
    /// Seconds it took.
    pub took_s: f64,
}

/// `offline batch 32 took 12s (estimated 5s), ...`: the steps that ran longest past their
/// estimates, at most `n` of them, for a note on an overrun budget.
pub fn overruns(steps: &[StepTime], n: usize) -> String {
    let mut over: Vec<&StepTime> = steps.iter().filter(|s| s.took_s > s.estimate_s).collect();
    over.sort_by(|a, b| (b.took_s - b.estimate_s).total_cmp(&(a.took_s - a.estimate_s)));
    over.iter()
        .take(n)
        .map(|s| {
            format!(
                "{} took {} (estimated {})",
                s.what,
                clock(s.took_s),
                clock(s.estimate_s)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a> Tracker<'a> {
    /// A tracker of `estimates_s.len()` steps with those estimated durations; `budget`: when
    /// the pipeline started and its budget.
    pub fn new(
        progress: &'a dyn Progress,
        estimates_s: Vec<f64>,
        budget: Option<(Instant, Duration)>,
    ) -> Self {
        Self {
            progress,
            total: estimates_s.len(),
            done: 0,
            estimates_s,
            start: Instant::now(),
            budget,
            current: None,
            took: Vec::new(),
        }
    }

    /// Announces the next step.
    pub fn step(&mut self, what: &str) {
        self.close();
        self.current = Some((what.to_string(), Instant::now()));
        let left: f64 = self.estimates_s.iter().skip(self.done).sum();
        self.done += 1;
        let budget = self.budget.map_or(String::new(), |(start, b)| {
            format!(
                ", {} of the {} budget used",
                clock(start.elapsed().as_secs_f64()),
                clock(b.as_secs_f64())
            )
        });
        self.progress.note(&format!(
            "[{}/{}] {what} · about {} of measuring left{budget}",
            self.done,
            self.total,
            clock(left)
        ));
    }

    /// Seconds since the measurements started.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Ends the last step; returns every step's estimate and time.
    pub fn finish(mut self) -> Vec<StepTime> {
        self.close();
        self.took
    }

    fn close(&mut self) {
        if let Some((what, at)) = self.current.take() {
            let i = self.took.len();
            self.took.push(StepTime {
                what,
                estimate_s: self.estimates_s.get(i).copied().unwrap_or(0.0),
                took_s: at.elapsed().as_secs_f64(),
            });
        }
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
    fn overruns_name_the_steps_furthest_past_their_estimates() {
        let st = |what: &str, estimate_s, took_s| StepTime {
            what: what.into(),
            estimate_s,
            took_s,
        };
        let steps = [
            st("single-stream", 10.0, 9.0),
            st("offline batch 32", 5.0, 12.0),
            st("server max-QPS search", 50.0, 70.0),
        ];
        assert_eq!(
            overruns(&steps, 2),
            "server max-QPS search took 1m10s (estimated 50s), offline batch 32 took 12s \
             (estimated 5s)"
        );
        assert_eq!(overruns(&steps[..1], 2), "");
    }

    #[test]
    fn the_tracker_times_each_step_against_its_estimate() {
        let mut t = Tracker::new(&burnish_bench::NoProgress, vec![1.0, 2.0], None);
        t.step("a");
        t.step("b");
        let steps = t.finish();
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].what.as_str(), steps[0].estimate_s), ("a", 1.0));
        assert_eq!((steps[1].what.as_str(), steps[1].estimate_s), ("b", 2.0));
        assert!(steps.iter().all(|s| s.took_s >= 0.0 && s.took_s < 1.0));
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock(65.2), "1m05s");
        assert_eq!(clock(42.0), "42s");
    }
}
