//! Speed of the harness itself, with the no-op target: closed-loop requests per second on one
//! worker (criterion), then open-loop scheduling lateness at 10k QPS (printed).
//!
//! Targets: at least 200k closed-loop requests/s, p99 lateness below 100 µs.

use std::time::Duration;

use burnish_bench::{
    HarnessSpeedConfig, LoadGen, NoopTarget, RunLimits, SingleStreamConfig, harness_speed,
};
use criterion::{Criterion, Throughput};

fn closed_loop(c: &mut Criterion) {
    let lg = LoadGen::new().with_sample_cap(1000);
    let mut group = c.benchmark_group("harness");
    group.throughput(Throughput::Elements(1));
    group.bench_function("closed_loop_noop_request", |b| {
        b.iter_custom(|iters| {
            // One worker stops exactly after `iters` queries; the run's span is their time.
            let limits = RunLimits::new(Duration::ZERO, iters);
            let r = lg
                .single_stream(&NoopTarget, &SingleStreamConfig::new(limits))
                .expect("the no-op target cannot fail");
            Duration::from_secs_f64(r.duration_s)
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    closed_loop(&mut c);
    c.final_summary();
    let s = harness_speed(&HarnessSpeedConfig::default()).expect("the no-op target cannot fail");
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!(
        "closed loop, 1 worker, no-op: {:.0} req/s ({:.0} ns/request) [target >= 200k: {}]",
        s.closed_loop_rps,
        s.closed_loop_overhead_ns,
        verdict(s.closed_loop_rps >= 200_000.0)
    );
    println!(
        "open loop at {:.0} qps (completed {:.0}): lateness p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs \
         [target p99 < 100 µs: {}]",
        s.open_loop_qps,
        s.open_loop_completed_qps,
        s.lateness_p50_us,
        s.lateness_p99_us,
        s.lateness_max_us,
        verdict(s.lateness_p99_us < 100.0)
    );
}
