//! M/D/1 sanity: Poisson arrivals at utilization 0.5 on one session with a deterministic
//! service time wait, on average, what queueing theory says: Wq = rho / (2 mu (1 - rho)).
//!
//! The theory needs a deterministic service time. On a loaded machine the synthetic target's
//! service time is not: wake-ups are sometimes late by a millisecond or more, in bursts, and
//! the queue becomes an M/G/1 with correlated service times, for which no closed form applies.
//! So every attempt checks the harness itself (each query issued at the later of its scheduled
//! time and the previous completion), and compares with the M/D/1 formula only when the measured
//! service time is close to deterministic (coefficient of variation below 10%). Attempts on a
//! machine too noisy for the experiment are reported and retried; a quiet attempt that misses
//! the formula fails the test.

mod common;

use std::time::Duration;

use burnish_bench::{FixedServiceTarget, LoadGen, RunLimits, ServerConfig};
use common::{timing_lock, within};

const ATTEMPTS: u64 = 3;

#[test]
fn md1_mean_wait_matches_theory() {
    let _guard = timing_lock();
    let service = Duration::from_micros(500);
    let service_us = service.as_secs_f64() * 1e6;
    let mu = 1.0 / service.as_secs_f64();
    let rho = 0.5;
    let qps = rho * mu;
    let md1_wq_us = rho / (2.0 * mu * (1.0 - rho)) * 1e6;
    let target = FixedServiceTarget::new(service);
    let mut failures = Vec::new();
    for attempt in 0..ATTEMPTS {
        // 5000 queries: the sample mean of M/D/1 waits at rho = 0.5 then has a relative
        // standard deviation of about 4.5%, so 15% is a meaningful but robust tolerance.
        let mut cfg = ServerConfig::new(qps, RunLimits::new(Duration::from_secs(1), 5000))
            .with_seed(100 + attempt);
        cfg.query_log_cap = 5000;
        let r = LoadGen::new().server(&target, &cfg).unwrap();
        let s = r.server.as_ref().unwrap();
        assert_eq!(s.dropped_queries, 0);
        within("scheduled qps", s.scheduled_qps, qps, 0.10).unwrap();

        let log = &r.query_log;
        let slip: f64 = log
            .windows(2)
            .map(|w| w[1].started_us.unwrap() - w[1].scheduled_us.max(w[0].completed_us.unwrap()))
            .sum::<f64>()
            / (log.len() - 1) as f64;
        assert!(slip < 50.0, "queries issued {slip:.1} µs late on average");

        let svc: Vec<f64> = log
            .iter()
            .map(|q| q.completed_us.unwrap() - q.started_us.unwrap())
            .collect();
        let n = svc.len() as f64;
        let mean = svc.iter().sum::<f64>() / n;
        let cv = (svc.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt() / mean;
        eprintln!(
            "attempt {attempt}: service {mean:.1} µs (cv {cv:.3}), wait {:.1} µs, M/D/1 {md1_wq_us:.1} µs",
            s.wait.mean_us
        );
        if cv >= 0.10 {
            eprintln!("attempt {attempt}: service time not deterministic (machine busy), retrying");
            continue;
        }
        let checks = within("service time (µs)", mean, service_us, 0.05)
            .and(within(
                "mean wait vs M/D/1 (µs)",
                s.wait.mean_us,
                md1_wq_us,
                0.15,
            ))
            .and(within(
                "mean latency vs M/D/1 (µs)",
                r.latency.mean_us,
                md1_wq_us + service_us,
                0.15,
            ));
        match checks {
            Ok(()) => return,
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "M/D/1 mismatch on a quiet machine:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "WARNING: M/D/1 comparison not made: the machine was too busy for a deterministic \
         service time in all {ATTEMPTS} attempts (harness issue times were checked)"
    );
}
