//! Saying what runs and what is left, and timing each step against its estimate.

use std::time::{Duration, Instant};

use burnish_bench::Progress;

use crate::budget::clock;

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

    /// How much longer the steps announced so far took than estimated, at least 1 (call it
    /// between steps).
    pub fn pace(&self) -> f64 {
        let estimated: f64 = self.estimates_s.iter().take(self.done).sum();
        if estimated <= 0.0 {
            return 1.0;
        }
        (self.elapsed_s() / estimated).max(1.0)
    }

    /// Time left of the budget, when there is one.
    pub fn left(&self) -> Option<Duration> {
        self.budget
            .map(|(start, b)| b.saturating_sub(start.elapsed()))
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
}
