//! A target that stalls once: the open-loop server charges the stall to every query that came
//! due during it, while a closed loop hides it in a single sample.

mod common;

use std::time::Duration;

use burnish_bench::{LoadGen, RunLimits, ServerConfig, SingleStreamConfig, StallOnceTarget};
use common::timing_lock;

const SERVICE: Duration = Duration::from_millis(1);
const STALL: Duration = Duration::from_millis(200);
const WARMUP: u64 = 5;
const STALL_AT: u64 = WARMUP + 150;

#[test]
fn open_loop_shows_the_stall_in_scheduled_time_latency() {
    let _guard = timing_lock();
    let target = StallOnceTarget::new(SERVICE, STALL_AT, STALL);
    let mut cfg = ServerConfig::new(
        200.0,
        RunLimits::new(Duration::from_millis(2500), 100).with_warmup(WARMUP),
    );
    cfg.query_log_cap = 100_000;
    let r = LoadGen::new().server(&target, &cfg).unwrap();
    assert!(target.stalled_at().is_some(), "the stall never happened");

    let log = &r.query_log;
    assert_eq!(
        log.len() as u64,
        r.server.as_ref().unwrap().scheduled_queries
    );
    let stalled = log
        .iter()
        .find(|q| q.completed_us.unwrap() - q.started_us.unwrap() >= STALL.as_secs_f64() * 1e6)
        .expect("one query took the stall");
    let (stall_start, stall_end) = (stalled.started_us.unwrap(), stalled.completed_us.unwrap());
    let latency = |q: &burnish_bench::QueryRecord| q.completed_us.unwrap() - q.scheduled_us;

    let mut due_during: Vec<f64> = log
        .iter()
        .filter(|q| q.scheduled_us > stall_start && q.scheduled_us < stall_end)
        .map(latency)
        .collect();
    // About 200 qps * 0.2 s = 40 queries came due during the stall.
    assert!(
        due_during.len() >= 15,
        "only {} queries due during the stall",
        due_during.len()
    );
    due_during.sort_by(f64::total_cmp);
    let median_due = due_during[due_during.len() / 2];
    assert!(
        median_due > 50_000.0,
        "queries due during the stall have median latency {median_due:.0} µs; the stall is hidden"
    );
    // Each waited at least until the stall ended.
    for q in log
        .iter()
        .filter(|q| q.scheduled_us > stall_start && q.scheduled_us < stall_end)
    {
        assert!(q.completed_us.unwrap() >= stall_end);
    }
    // Well after the stall the backlog is gone and latency is back to about the service time.
    let mut after: Vec<f64> = log
        .iter()
        .filter(|q| q.scheduled_us > stall_end + 500_000.0)
        .map(latency)
        .collect();
    after.sort_by(f64::total_cmp);
    let after_median = after[after.len() / 2];
    assert!(
        after_median < 5_000.0,
        "median after the stall {after_median:.0} µs"
    );

    // ~40 of ~500 queries (8%) are inflated: p99 of the whole run reflects the stall.
    assert!(
        r.latency.p99_us > 100_000.0,
        "server p99 {:.0} µs does not show a 200 ms stall",
        r.latency.p99_us
    );
}

#[test]
fn closed_loop_hides_the_stall() {
    let _guard = timing_lock();
    let target = StallOnceTarget::new(SERVICE, STALL_AT, STALL);
    let cfg = SingleStreamConfig::new(
        RunLimits::new(Duration::from_millis(300), 500).with_warmup(WARMUP),
    );
    let r = LoadGen::new().single_stream(&target, &cfg).unwrap();
    assert!(target.stalled_at().is_some(), "the stall never happened");
    // The stall is one sample out of 500: visible in max only.
    assert!(
        r.latency.max_us >= 200_000.0,
        "max {:.0} µs",
        r.latency.max_us
    );
    // Half the stall: a loaded machine may slow ordinary queries several-fold, but only a
    // measurement that counted the stall against ~40 queries could reach it.
    assert!(
        r.latency.p99_us < STALL.as_micros() as f64 / 2.0,
        "closed-loop p99 {:.0} µs; expected the stall to be hidden",
        r.latency.p99_us
    );
}
