//! The arrival generator produces a Poisson process: exponential gaps (Kolmogorov-Smirnov),
//! the requested rate, and reproducibility from the seed.

use burnish_bench::{PoissonArrivals, Rng};
use burnish_stats::ks::{ks_one_sample as ks_test, ks_p_value};

fn gaps(qps: f64, seed: u64, n: usize) -> Vec<f64> {
    let times: Vec<f64> = PoissonArrivals::new(qps, seed).take(n).collect();
    std::iter::once(times[0])
        .chain(times.windows(2).map(|w| w[1] - w[0]))
        .collect()
}

#[test]
fn inter_arrival_times_pass_ks_against_exponential() {
    let qps = 1000.0;
    let mut passed = 0;
    for seed in 0..20 {
        let g = gaps(qps, seed, 5000);
        let ks = ks_test(&g, |x| 1.0 - (-qps * x).exp());
        if ks.p_value > 0.01 {
            passed += 1;
        }
    }
    // At the 1% level about 0.2 of 20 seeds are expected to fail; allow 2.
    assert!(
        passed >= 18,
        "only {passed}/20 seeds passed KS at the 1% level"
    );
}

#[test]
fn ks_rejects_non_exponential_gaps() {
    let qps = 1000.0;
    let mut rng = Rng::new(7);
    // Uniform gaps with the right mean (1 ms): same rate, wrong distribution.
    let uniform: Vec<f64> = (0..5000).map(|_| 2.0 / qps * rng.next_f64()).collect();
    let ks = ks_test(&uniform, |x| 1.0 - (-qps * x).exp());
    assert!(ks.p_value < 1e-6, "uniform gaps accepted: {ks:?}");
    // Exponential gaps at the wrong rate are rejected too.
    let fast = gaps(1.2 * qps, 3, 5000);
    let ks = ks_test(&fast, |x| 1.0 - (-qps * x).exp());
    assert!(ks.p_value < 1e-6, "20% faster arrivals accepted: {ks:?}");
}

#[test]
fn ks_p_value_matches_known_critical_values() {
    // Asymptotic critical values of sqrt(n) * D: 1.358 at 5%, 1.628 at 1%.
    let n = 10_000;
    let d = |c: f64| c / (n as f64).sqrt();
    assert!((ks_p_value(d(1.358), n as f64) - 0.05).abs() < 0.003);
    assert!((ks_p_value(d(1.628), n as f64) - 0.01).abs() < 0.001);
    assert!(ks_p_value(d(0.3), n as f64) > 0.99);
}

#[test]
fn arrival_rate_matches_qps_and_seed_reproduces_schedule() {
    let qps = 2500.0;
    let n = 20_000;
    let last = PoissonArrivals::new(qps, 11).take(n).last().unwrap();
    // The n-th arrival is Gamma(n, qps): relative sd 1/sqrt(n) = 0.7%; allow 5 sd.
    let rate = n as f64 / last;
    assert!((rate / qps - 1.0).abs() < 0.035, "rate {rate}");
    let a: Vec<f64> = PoissonArrivals::new(qps, 11).take(100).collect();
    let b: Vec<f64> = PoissonArrivals::new(qps, 11).take(100).collect();
    let c: Vec<f64> = PoissonArrivals::new(qps, 12).take(100).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}
