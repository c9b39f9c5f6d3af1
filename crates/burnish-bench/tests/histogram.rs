//! Latency recording: percentiles within histogram precision, uniform reservoirs, merging.

use burnish_bench::stats::{compact_cdf, quantile_mut};
use burnish_bench::{LatencyRecorder, LatencyStats};

#[test]
fn percentiles_match_exact_order_statistics() {
    let mut rec = LatencyRecorder::new(100, 1);
    let mut exact = Vec::new();
    for i in 1..=10_000u64 {
        let ns = i * 1000 + (i * 7919) % 997; // 1 µs .. 10 ms, irregular
        rec.record(ns);
        exact.push(ns as f64 / 1e3);
    }
    let s = LatencyStats::from_recorder(&rec);
    assert_eq!(s.count, 10_000);
    for (got, q) in [
        (s.p50_us, 0.5),
        (s.p90_us, 0.9),
        (s.p99_us, 0.99),
        (s.p999_us, 0.999),
    ] {
        let want = quantile_mut(&mut exact, q);
        assert!((got - want).abs() / want < 0.002, "q={q}: {got} vs {want}");
    }
    let mean = exact.iter().sum::<f64>() / exact.len() as f64;
    assert!((s.mean_us - mean).abs() / mean < 0.002);
    let cdf = compact_cdf(&rec);
    assert!(
        cdf.windows(2)
            .all(|w| w[0].q < w[1].q && w[0].us <= w[1].us)
    );
    assert_eq!(cdf.last().unwrap().q, 1.0);
    assert!((cdf.last().unwrap().us - s.max_us).abs() < 1e-9);
}

#[test]
fn reservoir_is_a_uniform_sample() {
    let mut rec = LatencyRecorder::new(2000, 3);
    for i in 0..200_000u64 {
        rec.record(i + 1);
    }
    assert_eq!(rec.samples().len(), 2000);
    let mean = rec.samples().iter().sum::<u64>() as f64 / 2000.0;
    // Uniform on 1..200000: mean 100000, sd of the sample mean ~ 57735 / sqrt(2000) = 1291.
    assert!((mean - 100_000.0).abs() < 6000.0, "reservoir mean {mean}");
}

#[test]
fn merged_reservoir_weights_each_side_by_its_count() {
    let mut a = LatencyRecorder::new(1000, 1);
    let mut b = LatencyRecorder::new(1000, 2);
    for _ in 0..30_000 {
        a.record(1_000);
    }
    for _ in 0..70_000 {
        b.record(9_000);
    }
    a.merge(&b);
    assert_eq!(a.len(), 100_000);
    assert_eq!(a.samples().len(), 1000);
    let from_a = a.samples().iter().filter(|&&v| v < 5_000).count();
    // Hypergeometric: mean 300, sd ~ 14.5.
    assert!(
        (240..=360).contains(&from_a),
        "{from_a} of 1000 from the 30% side"
    );
    assert_eq!(a.count_above(5_000), 70_000);
    assert_eq!(a.value_at_rank(1), a.histogram().highest_equivalent(1_000));
    assert_eq!(
        a.value_at_rank(100_000),
        a.histogram().highest_equivalent(9_000)
    );
}

#[test]
fn small_merges_keep_everything() {
    let mut a = LatencyRecorder::new(100, 1);
    let mut b = LatencyRecorder::new(100, 2);
    (1..=10).for_each(|v| a.record(v * 1000));
    (11..=20).for_each(|v| b.record(v * 1000));
    a.merge(&b);
    let mut s = a.samples().to_vec();
    s.sort();
    assert_eq!(s, (1..=20).map(|v| v * 1000).collect::<Vec<u64>>());
}

#[test]
fn merging_small_reservoirs_into_a_large_one_stays_uniform() {
    // Rounds that kept 100 samples each, pooled into a recorder that could keep 10 000.
    let mut pooled = LatencyRecorder::new(10_000, 9);
    for (i, value) in [1_000u64, 9_000, 1_000, 9_000].into_iter().enumerate() {
        let mut round = LatencyRecorder::new(100, i as u64);
        for _ in 0..1_000 {
            round.record(value);
        }
        pooled.merge(&round);
    }
    assert_eq!(pooled.len(), 4_000);
    let kept = pooled.samples().len();
    assert!((50..=400).contains(&kept), "kept {kept}");
    let low = pooled.samples().iter().filter(|&&v| v < 5_000).count();
    let share = low as f64 / kept as f64;
    assert!(
        (0.3..=0.7).contains(&share),
        "{low}/{kept} from the 1 µs rounds"
    );
}
