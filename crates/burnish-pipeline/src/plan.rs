//! What is measured and for how long: the quick defaults (about a minute on the bundled
//! models) and LoadGen-grade durations (`--full`).

use std::time::Duration;

use burnish_bench::{Profile, RunLimits, ScenarioKind, Slo};

/// The measurement plan: scenarios, sweeps and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurePlan {
    /// Whether these are LoadGen-grade (`Full`) or quick limits.
    pub profile: Profile,
    /// Single-stream run.
    pub single_stream: RunLimits,
    /// Batch sizes of the offline sweep (sizes a model's fixed batch rejects are skipped).
    pub offline_batches: Vec<usize>,
    /// Each offline run.
    pub offline: RunLimits,
    /// Outstanding queries of the concurrency sweep.
    pub concurrency_levels: Vec<usize>,
    /// Each concurrency run.
    pub concurrency: RunLimits,
    /// The max-QPS search's final validity run.
    pub server: RunLimits,
    /// Each max-QPS search trial.
    pub server_trial: RunLimits,
    /// Most trials of a max-QPS search.
    pub server_max_trials: usize,
    /// Relative bracket width at which the max-QPS search stops.
    pub server_tolerance: f64,
    /// The server SLO; `None`: [`Self::slo_factor`] times the baseline's single-stream p99.
    pub slo: Option<Slo>,
    /// Multiple of the baseline's single-stream p99 used as the SLO when none is given.
    pub slo_factor: f64,
    /// Interleaved rounds of each baseline-versus-candidate comparison.
    pub compare_rounds: usize,
    /// Each side of one comparison round.
    pub compare_round: RunLimits,
    /// Runs averaged by the per-op profile.
    pub profile_runs: usize,
    /// Wall time the whole pipeline should fit in (run durations shrink to fit it, see
    /// [`crate::budget`]); `None`: no bound.
    pub budget: Option<Duration>,
}

/// The quick plan's bound on a whole pipeline run.
pub const QUICK_BUDGET: Duration = Duration::from_secs(180);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

impl MeasurePlan {
    /// Short runs (0.25-1.5 s each): every scenario on two variants of a small model in about
    /// a minute on two cores, the whole pipeline within [`QUICK_BUDGET`]. Runs too short for
    /// LoadGen's rules are QUICK, not INVALID (`RunLimits::as_quick`).
    pub fn quick() -> Self {
        let plan = Self {
            profile: Profile::Quick,
            single_stream: RunLimits::new(ms(1000), 64)
                .with_warmup(8)
                .with_max_duration(ms(10_000)),
            offline_batches: vec![1, 8, 32],
            offline: RunLimits::new(ms(500), 8)
                .with_warmup(2)
                .with_max_duration(ms(10_000)),
            concurrency_levels: vec![1, 2, 4, 8],
            concurrency: RunLimits::new(ms(500), 64)
                .with_warmup(8)
                .with_max_duration(ms(10_000)),
            server: RunLimits::new(ms(1500), 128)
                .with_warmup(8)
                .with_max_duration(ms(15_000)),
            server_trial: RunLimits::new(ms(400), 32).with_warmup(4),
            server_max_trials: 8,
            server_tolerance: 0.1,
            slo: None,
            slo_factor: 4.0,
            compare_rounds: 8,
            compare_round: RunLimits::new(ms(250), 20).with_warmup(2),
            profile_runs: 10,
            budget: Some(QUICK_BUDGET),
        };
        plan.map_limits(|l| l.as_quick())
    }

    /// LoadGen-grade limits (600 s minimum per run; see `burnish_bench::Profile::Full`).
    pub fn full() -> Self {
        let full = |kind| Profile::Full.limits(kind);
        Self {
            profile: Profile::Full,
            single_stream: full(ScenarioKind::SingleStream),
            offline_batches: vec![1, 8, 32],
            offline: full(ScenarioKind::Offline),
            concurrency_levels: vec![1, 2, 4, 8],
            concurrency: full(ScenarioKind::Concurrency),
            server: full(ScenarioKind::Server),
            server_trial: RunLimits::new(ms(5000), 256).with_warmup(16),
            server_max_trials: 16,
            server_tolerance: 0.05,
            slo: None,
            slo_factor: 4.0,
            compare_rounds: 20,
            compare_round: RunLimits::new(ms(2000), 64).with_warmup(8),
            profile_runs: 50,
            budget: None,
        }
    }

    /// Applies `f` to every run's limits.
    pub fn map_limits(mut self, f: impl Fn(RunLimits) -> RunLimits) -> Self {
        for limits in [
            &mut self.single_stream,
            &mut self.offline,
            &mut self.concurrency,
            &mut self.server,
            &mut self.server_trial,
            &mut self.compare_round,
        ] {
            *limits = f(*limits);
        }
        self
    }

    /// Every run shortened to `scale` (in `(0, 1]`) of its duration and queries, down to the
    /// floors below which a run says nothing (a few queries, two comparison rounds on each
    /// side, three search trials); the profile averages fewer runs too.
    pub fn scaled(&self, scale: f64) -> Self {
        let s = scale.clamp(0.0, 1.0);
        let shrink = |l: RunLimits, floor: u64| {
            let count = |n: u64, min: u64| ((n as f64 * s).round() as u64).clamp(min.min(n), n);
            RunLimits {
                min_duration: l.min_duration.mul_f64(s),
                min_queries: count(l.min_queries, floor),
                max_duration: l.max_duration.map(|m| m.mul_f64(s.max(0.25))),
                warmup_queries: count(l.warmup_queries, 1),
                quick: l.quick,
            }
        };
        let mut plan = self.clone();
        plan.single_stream = shrink(self.single_stream, 8);
        plan.offline = shrink(self.offline, 2);
        plan.concurrency = shrink(self.concurrency, 8);
        plan.server = shrink(self.server, 16);
        plan.server_trial = shrink(self.server_trial, 8);
        plan.compare_round = shrink(self.compare_round, 3);
        let n = |x: usize, min: usize| ((x as f64 * s).round() as usize).clamp(min.min(x), x);
        plan.server_max_trials = n(self.server_max_trials, 3);
        plan.compare_rounds = n(self.compare_rounds, 4);
        plan.profile_runs = n(self.profile_runs, 2);
        plan
    }

    /// Sets the minimum duration of every run to `d` (search trials and comparison rounds
    /// to half of it), keeping the query minimums. For smoke tests and slow models.
    pub fn with_run_time(mut self, d: Duration) -> Self {
        let half = d / 2;
        for limits in [
            &mut self.single_stream,
            &mut self.offline,
            &mut self.concurrency,
            &mut self.server,
        ] {
            limits.min_duration = d;
            limits.max_duration = limits.max_duration.map(|m| m.max(d * 4));
        }
        self.server_trial.min_duration = half;
        self.compare_round.min_duration = half;
        self
    }

    /// A short description for logs and the report title.
    pub fn describe(&self) -> String {
        format!(
            "{} durations: single-stream {:.1} s, offline batches {:?}, concurrency {:?}, \
             max-QPS search (≤{} trials), {} comparison rounds",
            match self.profile {
                Profile::Quick => "quick",
                Profile::Full => "LoadGen-grade",
            },
            self.single_stream.min_duration.as_secs_f64(),
            self.offline_batches,
            self.concurrency_levels,
            self.server_max_trials,
            self.compare_rounds
        )
    }
}
