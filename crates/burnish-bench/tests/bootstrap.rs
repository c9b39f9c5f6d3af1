//! Bootstrap intervals and comparison verdicts on synthetic latency samples (no sleeping).

use burnish_bench::{
    BootstrapConfig, CompareConfig, Rng, Verdict, compare_rounds, median_ratio_ci,
};

/// `rounds` paired rounds of `n` log-normal latencies per side; the baseline's median is
/// `ratio` times the candidate's. A per-round drift factor hits both sides of a round alike.
fn synthetic(
    seed: u64,
    rounds: usize,
    n: usize,
    ratio: f64,
    sigma: f64,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut rng = Rng::new(seed);
    let candidate_median = 1000.0;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let drift = (0.03 * rng.normal()).exp();
        let mut side = |median: f64| -> Vec<f64> {
            (0..n)
                .map(|_| median * drift * (sigma * rng.normal()).exp())
                .collect()
        };
        a.push(side(candidate_median * ratio));
        b.push(side(candidate_median));
    }
    (a, b)
}

#[test]
fn ci_covers_true_ratio_in_at_least_90_percent_of_seeds() {
    let true_ratio = 1.2;
    let (mut covered, mut decisive) = (0, 0);
    for seed in 0..50 {
        let (a, b) = synthetic(seed, 8, 150, true_ratio, 0.25);
        let cfg = BootstrapConfig {
            resamples: 1000,
            confidence: 0.95,
            seed: 1000 + seed,
        };
        let ci = median_ratio_ci(&a, &b, &cfg).unwrap();
        assert!(ci.lo <= ci.estimate && ci.estimate <= ci.hi, "{ci:?}");
        covered += usize::from(ci.contains(true_ratio));
        decisive += usize::from(ci.lo > 1.0);
    }
    assert!(
        covered >= 45,
        "95% CI covered the true ratio in only {covered}/50 seeds"
    );
    // An interval that always covers because it is huge would be useless: it must also exclude
    // "no difference" for a 1.2x effect.
    assert!(
        decisive >= 45,
        "CI excluded 1.0 in only {decisive}/50 seeds"
    );
}

#[test]
fn single_round_bootstrap_is_the_ordinary_bootstrap() {
    let mut covered = 0;
    for seed in 0..50 {
        let (a, b) = synthetic(seed, 1, 600, 1.2, 0.25);
        let cfg = BootstrapConfig {
            resamples: 1000,
            confidence: 0.95,
            seed,
        };
        covered += usize::from(median_ratio_ci(&a, &b, &cfg).unwrap().contains(1.2));
    }
    assert!(covered >= 42, "single-round coverage {covered}/50");
}

#[test]
fn verdicts_follow_the_interval() {
    let cfg = CompareConfig {
        bootstrap: BootstrapConfig {
            resamples: 500,
            ..BootstrapConfig::default()
        },
        ..CompareConfig::default()
    };
    let (a, b) = synthetic(1, 8, 200, 1.2, 0.2);
    let c = compare_rounds(&a, &b, &cfg).unwrap();
    assert_eq!(c.verdict, Verdict::Faster, "{}", c.summary);
    assert!(c.extra_rounds_estimate.is_none());
    assert_eq!(c.baseline_round_medians_us.len(), 8);

    let c = compare_rounds(&b, &a, &cfg).unwrap();
    assert_eq!(c.verdict, Verdict::Slower, "{}", c.summary);
    assert!((c.speedup.estimate - 1.0 / 1.2).abs() < 0.05);

    // Identical distributions with little noise and many samples: equivalent.
    let (a, b) = synthetic(2, 10, 2000, 1.0, 0.02);
    let c = compare_rounds(&a, &b, &cfg).unwrap();
    assert_eq!(c.verdict, Verdict::Equivalent, "{}", c.summary);
}

#[test]
fn inconclusive_estimates_more_rounds_and_larger_effects_need_fewer() {
    let cfg = CompareConfig {
        equivalence_pct: 0.0,
        bootstrap: BootstrapConfig {
            resamples: 500,
            ..BootstrapConfig::default()
        },
        ..CompareConfig::default()
    };
    let extra = |ratio: f64| {
        let (a, b) = synthetic(5, 4, 30, ratio, 0.3);
        let c = compare_rounds(&a, &b, &cfg).unwrap();
        assert_eq!(c.verdict, Verdict::Inconclusive, "{}", c.summary);
        c.extra_rounds_estimate
            .expect("an estimate for an inconclusive result")
    };
    let (small, large) = (extra(1.03), extra(1.08));
    assert!(small >= 1 && large >= 1);
    assert!(
        small > large,
        "a 3% effect should need more rounds ({small}) than an 8% one ({large})"
    );
    // Continuing an experiment for the estimated rounds (with a 2x margin) mostly decides it.
    let (mut tried, mut decided) = (0, 0);
    for seed in 10..30 {
        let (a, b) = synthetic(seed, 4, 30, 1.08, 0.3);
        let c = compare_rounds(&a, &b, &cfg).unwrap();
        let Some(extra) = c.extra_rounds_estimate else {
            continue;
        };
        // Same seed, more rounds: the first four rounds are the ones already seen.
        let (a, b) = synthetic(seed, 4 + 2 * extra as usize, 30, 1.08, 0.3);
        tried += 1;
        decided += usize::from(compare_rounds(&a, &b, &cfg).unwrap().verdict == Verdict::Faster);
    }
    assert!(tried >= 10, "only {tried} inconclusive starts");
    assert!(
        decided * 10 >= tried * 7,
        "following the estimate decided only {decided}/{tried} experiments"
    );
}
