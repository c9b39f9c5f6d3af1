//! M/D/1 sanity: Poisson arrivals at utilization 0.5 on one session with a deterministic
//! service time wait, on average, what queueing theory says: Wq = rho / (2 mu (1 - rho)).

mod common;

use std::time::Duration;

use burnish_bench::{FixedServiceTarget, LoadGen, RunLimits, ServerConfig};
use common::{retry, timing_lock, within};

#[test]
fn md1_mean_wait_matches_theory() {
    let _guard = timing_lock();
    let service = Duration::from_micros(500);
    let mu = 1.0 / service.as_secs_f64();
    let rho = 0.5;
    let qps = rho * mu;
    let theory_wq_us = rho / (2.0 * mu * (1.0 - rho)) * 1e6;
    let target = FixedServiceTarget::new(service);
    retry(3, |attempt| {
        // 6000 queries: the sample mean of M/D/1 waits at rho = 0.5 then has a relative
        // standard deviation of about 4%, so 15% is a meaningful but robust tolerance.
        let mut cfg = ServerConfig::new(qps, RunLimits::new(Duration::from_secs(1), 6000))
            .with_seed(100 + attempt as u64);
        cfg.query_log_cap = 6000;
        let r = LoadGen::new().server(&target, &cfg).map_err(|e| e.to_string())?;
        let s = r.server.as_ref().unwrap();
        assert_eq!(s.dropped_queries, 0);
        within("scheduled qps", s.scheduled_qps, qps, 0.10)?;

        // The harness must issue each query at max(scheduled, previous completion).
        let log = &r.query_log;
        let mut slip = 0.0;
        for w in log.windows(2) {
            let expected = w[1].scheduled_us.max(w[0].completed_us.unwrap());
            slip += w[1].started_us.unwrap() - expected;
        }
        let mean_slip = slip / (log.len() - 1) as f64;
        if mean_slip > 25.0 {
            return Err(format!("queries issued {mean_slip:.1} µs late on average"));
        }
        within("mean wait (µs)", s.wait.mean_us, theory_wq_us, 0.15)?;
        within(
            "mean latency (µs)",
            r.latency.mean_us,
            theory_wq_us + service.as_secs_f64() * 1e6,
            0.15,
        )
    });
}
