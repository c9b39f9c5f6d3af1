//! Scenario behaviour: single-stream, concurrency, server SLO handling, max-QPS search,
//! multi-model, interleaved comparison, regression gate, errors and validity.

mod common;

use std::sync::Arc;
use std::time::Duration;

use burnish_bench::{
    BarProgress, BenchError, CompareConfig, ConcurrencyConfig, FixedServiceTarget, LoadGen,
    MaxQpsConfig, ModelLoad, NoopTarget, Profile, RegressionStatus, RunLimits, ScenarioConfig,
    ScenarioKind, ServerConfig, SingleStreamConfig, Slo, Target, TargetError, VALIDITY_RETRIES,
    VALIDITY_STEP_DOWN, ValidityStatus, Verdict, compare, regression_check,
};
use common::{retry, timing_lock, within};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn single_stream_measures_service_time_and_is_valid() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(1));
    let lg = LoadGen::new()
        .with_intra_op_threads(3)
        .with_progress(BarProgress::stderr());
    retry(3, |_| {
        let r = lg
            .single_stream(
                &target,
                &SingleStreamConfig::new(RunLimits::new(ms(300), 100)),
            )
            .map_err(|e| e.to_string())?;
        assert_eq!(r.scenario, ScenarioKind::SingleStream);
        assert_eq!(r.settings.intra_op_threads, Some(3));
        assert_eq!((r.settings.batch, r.settings.workers), (1, 1));
        assert!(r.queries >= 100 && r.duration_s >= 0.3);
        assert_eq!(r.validity.status, ValidityStatus::Valid, "{:?}", r.validity);
        assert_eq!(r.samples_us.len() as u64, r.queries.min(10_000));
        let es = r.validity.early_stopping.as_ref().unwrap();
        assert_eq!(es.percentile, 0.9);
        assert!(es.estimate_us.unwrap() >= r.latency.p90_us);
        within("p50 (µs)", r.latency.p50_us, 1000.0, 0.10)
    });
}

#[test]
fn unmet_minimums_make_a_run_invalid() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(1));
    let limits = RunLimits::new(ms(2000), 10).with_max_duration(ms(100));
    let r = LoadGen::new()
        .single_stream(&target, &SingleStreamConfig::new(limits))
        .unwrap();
    assert_eq!(r.validity.status, ValidityStatus::Invalid);
    assert!(r.duration_s < 0.5, "max_duration did not stop the run");
    let reasons = r.validity.reasons.join("; ");
    assert!(
        reasons.contains("duration") && reasons.contains("max_duration"),
        "{reasons}"
    );
}

#[test]
fn a_quick_run_cut_short_is_quick_not_invalid_but_an_slo_miss_stays_invalid() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(1));
    let limits = RunLimits::new(ms(2000), 10)
        .with_max_duration(ms(100))
        .as_quick();
    let r = LoadGen::new()
        .single_stream(&target, &SingleStreamConfig::new(limits))
        .unwrap();
    assert_eq!(r.validity.status, ValidityStatus::Quick, "{:?}", r.validity);
    assert!(r.validity.reasons.is_empty() && !r.is_invalid() && !r.is_valid());
    let quick = r.validity.quick.join("; ");
    assert!(
        quick.contains("max_duration") && quick.contains("`--full`") && quick.contains("600 s"),
        "{quick}"
    );

    let target = FixedServiceTarget::new(ms(2));
    let cfg = ServerConfig::new(450.0, RunLimits::new(ms(1000), 100).as_quick())
        .with_slo(Slo::p99(ms(3)));
    let r = LoadGen::new().server(&target, &cfg).unwrap();
    assert_eq!(r.validity.status, ValidityStatus::Invalid);
    assert!(
        r.validity
            .reasons
            .iter()
            .any(|m| m.contains("exceeds the SLO")),
        "{:?}",
        r.validity
    );
    assert!(
        r.validity
            .reasons
            .iter()
            .all(|m| !m.contains("early stopping"))
    );
}

#[test]
fn quick_profile_limits_are_a_few_seconds() {
    for kind in [
        ScenarioKind::SingleStream,
        ScenarioKind::Server,
        ScenarioKind::Offline,
    ] {
        let q = Profile::Quick.limits(kind);
        let f = Profile::Full.limits(kind);
        assert!(q.min_duration <= Duration::from_secs(5));
        assert_eq!(f.min_duration, Duration::from_secs(600));
        assert!(f.min_queries > q.min_queries);
    }
}

#[test]
fn concurrency_sweep_scales_throughput_with_outstanding_queries() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(2));
    retry(3, |_| {
        let cfg = ConcurrencyConfig::new(vec![1, 4], RunLimits::new(ms(400), 20));
        let runs = LoadGen::new()
            .concurrency_sweep(&target, &cfg)
            .map_err(|e| e.to_string())?;
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].settings.workers, 4);
        within(
            "throughput ratio 4 vs 1",
            runs[1].throughput.queries_per_s / runs[0].throughput.queries_per_s,
            4.0,
            0.10,
        )
    });
}

#[test]
fn server_overload_violates_the_slo_and_fails_early_stopping() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(2));
    // 90% utilization with a 3 ms p99 SLO: queueing pushes p99 far beyond it.
    let cfg = ServerConfig::new(450.0, RunLimits::new(ms(1000), 100)).with_slo(Slo::p99(ms(3)));
    let r = LoadGen::new().server(&target, &cfg).unwrap();
    assert_eq!(r.validity.status, ValidityStatus::Invalid);
    assert!(
        r.validity
            .reasons
            .iter()
            .any(|m| m.contains("exceeds the SLO"))
    );
    let es = r.validity.early_stopping.as_ref().unwrap();
    assert_eq!(es.criterion_met, Some(false));
    assert!(es.overlatency_queries.unwrap() > 0);
    let s = r.server.as_ref().unwrap();
    assert_eq!(r.settings.target_qps, Some(450.0));
    assert!(s.scheduled_qps > 300.0 && s.completed_qps > 0.0);
}

#[test]
fn overloaded_server_drops_after_the_drain_timeout() {
    let _guard = timing_lock();
    // Twice the capacity for 0.5 s leaves ~0.25 s of backlog; a 50 ms drain drops the rest.
    let target = FixedServiceTarget::new(ms(2));
    let mut cfg = ServerConfig::new(1000.0, RunLimits::new(ms(500), 10));
    cfg.drain_timeout = ms(50);
    let r = LoadGen::new().server(&target, &cfg).unwrap();
    let s = r.server.as_ref().unwrap();
    assert!(s.dropped_queries > 20, "dropped {}", s.dropped_queries);
    assert_eq!(r.queries + s.dropped_queries, s.scheduled_queries);
    assert_eq!(r.validity.status, ValidityStatus::Invalid);
    assert!(
        r.duration_s < 1.0,
        "the backlog was drained instead of dropped"
    );
}

#[test]
fn find_max_qps_brackets_the_capacity() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(2)); // capacity 500 qps on one session
    let server = ServerConfig::new(1.0, RunLimits::new(ms(1000), 100));
    let mut cfg = MaxQpsConfig::new(server, Slo::p99(ms(10)));
    cfg.trial_limits = RunLimits::new(ms(600), 50);
    cfg.tolerance = 0.10;
    let report = LoadGen::new().find_max_qps(&target, &cfg).unwrap();
    assert!(report.trials.len() >= 3);
    assert!(
        report.max_qps > 125.0 && report.max_qps < 500.0,
        "max qps {} for a 500 qps capacity",
        report.max_qps
    );
    // The answer is a passing trial's rate, stepped down once per validity run that missed the
    // SLO; each miss is recorded as a failed trial at the rate it ran.
    let at = |qps: f64, passed: bool| {
        report
            .trials
            .iter()
            .any(|t| t.passed == passed && (t.qps - qps).abs() <= 1e-9 * qps)
    };
    let explained = (0..=VALIDITY_RETRIES as i32).any(|misses| {
        let found = report.max_qps / VALIDITY_STEP_DOWN.powi(misses);
        at(found, true) && (0..misses).all(|j| at(found * VALIDITY_STEP_DOWN.powi(j), false))
    });
    assert!(
        explained,
        "max qps {} from trials {:?}",
        report.max_qps, report.trials
    );
    for t in &report.trials {
        if t.qps >= 500.0 {
            assert!(!t.passed, "a trial at {} qps (over capacity) passed", t.qps);
        }
    }
    assert_eq!(
        report.validity_run.settings.target_qps,
        Some(report.max_qps)
    );
    assert_eq!(report.validity_run.settings.slo, Some(cfg.slo));
}

#[test]
fn find_max_qps_reports_an_impossible_slo() {
    let _guard = timing_lock();
    let target = FixedServiceTarget::new(ms(2));
    let server = ServerConfig::new(1.0, RunLimits::new(ms(300), 10));
    let mut cfg = MaxQpsConfig::new(server, Slo::p99(ms(1)));
    cfg.trial_limits = RunLimits::new(ms(200), 10);
    cfg.start_qps = Some(100.0);
    cfg.max_trials = 4;
    let err = LoadGen::new().find_max_qps(&target, &cfg).unwrap_err();
    assert!(matches!(err, BenchError::NoFeasibleRate { .. }), "{err}");
}

#[test]
fn multi_model_reports_alone_together_and_ratios() {
    let _guard = timing_lock();
    let a: Arc<dyn Target> = Arc::new(FixedServiceTarget::new(ms(1)).named("a"));
    let b: Arc<dyn Target> = Arc::new(FixedServiceTarget::new(ms(2)).named("b"));
    let limits = RunLimits::new(ms(300), 20);
    let loads = vec![
        ModelLoad {
            label: "a".into(),
            target: a,
            scenario: ScenarioConfig::SingleStream(SingleStreamConfig::new(limits)),
        },
        ModelLoad {
            label: "b".into(),
            target: b,
            scenario: ScenarioConfig::Server(ServerConfig::new(100.0, limits)),
        },
    ];
    retry(3, |_| {
        let rep = LoadGen::new()
            .multi_model(&loads)
            .map_err(|e| e.to_string())?;
        assert_eq!(rep.alone.len(), 2);
        assert_eq!(rep.together.len(), 2);
        assert_eq!(rep.alone[0].label, "a (alone)");
        assert_eq!(rep.together[1].label, "b (together)");
        assert_eq!(rep.together[1].scenario, ScenarioKind::Server);
        // Sleeping targets barely interfere: the median ratio is near 1.
        for i in &rep.interference {
            if !(0.8..1.3).contains(&i.p50) {
                return Err(format!("{}: p50 interference {:.2}", i.label, i.p50));
            }
            let expected = rep.together[0].latency.p50_us / rep.alone[0].latency.p50_us;
            if i.label == "a" {
                assert!((i.p50 - expected).abs() < 1e-12);
            }
        }
        Ok(())
    });
}

#[test]
fn compare_detects_a_slower_candidate_and_equal_targets() {
    let _guard = timing_lock();
    let fast = FixedServiceTarget::new(ms(1)).named("fast");
    let slow = FixedServiceTarget::new(Duration::from_micros(1500)).named("slow");
    let cfg = CompareConfig {
        rounds: 6,
        round_limits: RunLimits::new(ms(60), 20),
        ..CompareConfig::default()
    };
    retry(3, |_| {
        let out = compare(&fast, &slow, &cfg).map_err(|e| e.to_string())?;
        let c = &out.comparison;
        assert_eq!(c.rounds, 6);
        assert_eq!(c.baseline_round_medians_us.len(), 6);
        assert!(out.baseline.queries >= 6 * 20);
        assert!(
            c.deltas
                .iter()
                .any(|d| d.name == "p50" && d.delta_pct > 0.0)
        );
        if c.verdict != Verdict::Slower {
            return Err(format!("expected slower: {}", c.summary));
        }
        within("speedup", c.speedup.estimate, 1.0 / 1.5, 0.05)
    });
    retry(3, |_| {
        let out = compare(&fast, &fast, &cfg).map_err(|e| e.to_string())?;
        let c = &out.comparison;
        if !matches!(c.verdict, Verdict::Equivalent | Verdict::Inconclusive) {
            return Err(format!(
                "identical targets judged {:?}: {}",
                c.verdict, c.summary
            ));
        }
        within(
            "speedup of identical targets",
            c.speedup.estimate,
            1.0,
            0.03,
        )
    });
}

#[test]
fn regression_gate_flags_slowdowns_beyond_noise_only() {
    let _guard = timing_lock();
    let lg = LoadGen::new();
    let run = |us: u64| {
        let t = FixedServiceTarget::new(Duration::from_micros(us));
        lg.single_stream(&t, &SingleStreamConfig::new(RunLimits::new(ms(200), 100)))
            .unwrap()
    };
    let saved = run(1000);
    let slower = run(1300);
    let same = run(1000);
    let rep = regression_check(&saved, &slower, 5.0).unwrap();
    assert_eq!(rep.status, RegressionStatus::Regressed, "{}", rep.reason);
    assert!(rep.ci_lo_pct > 5.0 && rep.slowdown_pct > 20.0);
    let rep = regression_check(&slower, &saved, 5.0).unwrap();
    assert_eq!(rep.status, RegressionStatus::Ok, "{}", rep.reason);
    assert!(rep.slowdown_pct < -15.0);
    let rep = regression_check(&saved, &same, 5.0).unwrap();
    assert_eq!(rep.status, RegressionStatus::Ok, "{}", rep.reason);
    // A 30% slowdown is not a regression against a 50% threshold.
    let rep = regression_check(&saved, &slower, 50.0).unwrap();
    assert_eq!(rep.status, RegressionStatus::Ok, "{}", rep.reason);
}

struct Failing;

impl Target for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn prepare(&self, _batch: usize) -> Result<(), TargetError> {
        Ok(())
    }
    fn infer(&self, _batch: usize) -> Result<(), TargetError> {
        Err(TargetError::new("out of cheese"))
    }
}

#[test]
fn target_errors_surface_with_the_target_name() {
    let limits = RunLimits::new(ms(100), 10);
    let lg = LoadGen::new();
    let err = lg
        .single_stream(&Failing, &SingleStreamConfig::new(limits))
        .unwrap_err();
    assert!(
        matches!(&err, BenchError::Target { target, source } if target == "failing" && source.message == "out of cheese")
    );
    let err = lg
        .server(&Failing, &ServerConfig::new(100.0, limits))
        .unwrap_err();
    assert!(err.to_string().contains("out of cheese"), "{err}");
    let err = lg
        .single_stream(&NoopTarget, &SingleStreamConfig::new(limits))
        .map(|_| ())
        .and_then(|_| {
            lg.server(&NoopTarget, &ServerConfig::new(-1.0, limits))
                .map(|_| ())
        })
        .unwrap_err();
    assert!(
        matches!(err, BenchError::Config { field: "qps", .. }),
        "{err}"
    );
}
