//! LoadGen's binomial early stopping, checked against direct binomial computations.

use burnish_bench::early_stopping::{
    min_passing_queries, percentile_estimate_rank, server_criterion,
};

/// `P(X <= t)`, `X ~ Binomial(n, q)`, by direct summation of the terms in log space.
fn binom_cdf(t: u64, n: u64, q: f64) -> f64 {
    let mut log_term = n as f64 * (1.0 - q).ln();
    let mut logs = vec![log_term];
    for x in 0..t.min(n) {
        log_term += ((n - x) as f64 / (x + 1) as f64).ln() + (q / (1.0 - q)).ln();
        logs.push(log_term);
    }
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max.exp() * logs.iter().map(|l| (l - max).exp()).sum::<f64>()
}

#[test]
fn zero_overlatency_needs_the_geometric_bound() {
    // P(all h under latency | true quantile too high) = p^h <= 1 - c.
    for (p, c) in [(0.9, 0.99), (0.99, 0.99), (0.9, 0.95)] {
        let expected = ((1.0f64 - c).ln() / f64::ln(p)).ceil() as u64;
        assert_eq!(min_passing_queries(0, p, c), expected, "p={p} c={c}");
    }
}

#[test]
fn min_passing_is_the_smallest_h_meeting_the_confidence() {
    for (t, p) in [
        (1u64, 0.9),
        (2, 0.9),
        (5, 0.9),
        (40, 0.9),
        (3000, 0.9),
        (1, 0.99),
        (500, 0.99),
    ] {
        let h = min_passing_queries(t, p, 0.99);
        assert!(binom_cdf(t, h + t, 1.0 - p) <= 0.01, "t={t} p={p} h={h}");
        assert!(
            binom_cdf(t, h - 1 + t, 1.0 - p) > 0.01,
            "t={t} p={p} h-1={}",
            h - 1
        );
    }
}

#[test]
fn percentile_estimate_rank_behaves() {
    let min = min_passing_queries(1, 0.9, 0.99) + 1;
    assert_eq!(percentile_estimate_rank(min - 1, 0.9, 0.99), None);
    assert_eq!(percentile_estimate_rank(min, 0.9, 0.99), Some(1));
    let mut prev = 0;
    for n in (min..5000).step_by(97) {
        let t = percentile_estimate_rank(n, 0.9, 0.99).unwrap();
        assert!(t >= prev, "rank must not decrease with more queries");
        assert!(n >= min_passing_queries(t, 0.9, 0.99) + t);
        assert!(n < min_passing_queries(t + 1, 0.9, 0.99) + t + 1);
        prev = t;
    }
    // For n = 1000 at p90, the bound discards fewer than the ~100 queries above the median
    // estimate of p90: roughly 100 - 2.33 * sqrt(1000 * 0.9 * 0.1) = 78.
    let t = percentile_estimate_rank(1000, 0.9, 0.99).unwrap();
    assert!((70..=85).contains(&t), "t = {t}");
}

#[test]
fn server_criterion_passes_clean_runs_and_fails_at_the_boundary() {
    assert_eq!(server_criterion(24576, 0, 0.99, 0.99), Ok(()));
    assert_eq!(server_criterion(24576, 100, 0.99, 0.99), Ok(()));
    // Exactly 1% over latency cannot establish a p99 bound with 99% confidence.
    assert!(server_criterion(24576, 246, 0.99, 0.99).is_err());
    // Too few queries: the shortfall is reported.
    let more = server_criterion(100, 0, 0.99, 0.99).unwrap_err();
    assert_eq!(more, min_passing_queries(0, 0.99, 0.99) - 100);
}
