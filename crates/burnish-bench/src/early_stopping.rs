//! LoadGen's binomial early stopping.
//!
//! Queries are treated as independent trials, each "over latency" with some probability. If the
//! true `p`-quantile of latency were above a bound, a query would exceed the bound with
//! probability more than `1 - p`. Seeing only `t` such queries among `n` is then unlikely; when
//! its probability falls below `1 - confidence`, the bound is established. This gives:
//!
//! - [`min_passing_queries`]: the fewest under-latency queries `h` that, together with `t`
//!   over-latency ones, make the bound hold (LoadGen's `MinPassingQueriesFinder`, tolerance 0).
//! - [`percentile_estimate_rank`]: for a closed-loop run of `n` queries, the largest `t` for which
//!   `n >= h(t) + t`; the `t`-th largest latency is then an upper bound on the true `p`-quantile
//!   with the given confidence (LoadGen's single-stream "early stopping percentile estimate").
//! - [`server_criterion`]: whether `n` queries with `t` over the SLO latency establish the SLO.

use burnish_stats::special::binomial_cdf;

/// The smallest number of under-latency queries `h` such that, with `t` over-latency queries,
/// `P(Binomial(h + t, 1 - p) <= t) <= 1 - confidence`: enough evidence that the true
/// `p`-quantile is at most the latency bound.
pub fn min_passing_queries(t: u64, p: f64, confidence: f64) -> u64 {
    let fails = |h: u64| binomial_cdf(t, h + t, 1.0 - p) > 1.0 - confidence;
    let mut hi = 1u64;
    while fails(hi) {
        hi *= 2;
        if hi > 1 << 40 {
            return hi;
        }
    }
    // `fails(0)` always holds (zero trials cannot bound anything), so `lo` starts failing.
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fails(mid) { lo = mid } else { hi = mid }
    }
    hi
}

/// For a run of `n` queries, the 1-based descending rank `t` of the early-stopping estimate of
/// the `p`-quantile (the estimate is the `t`-th largest latency), or `None` when `n` is too small
/// for any estimate (fewer than `min_passing_queries(1, ..) + 1` queries).
pub fn percentile_estimate_rank(n: u64, p: f64, confidence: f64) -> Option<u64> {
    let ok = |t: u64| n >= min_passing_queries(t, p, confidence) + t;
    if !ok(1) {
        return None;
    }
    let (mut lo, mut hi) = (1u64, 2u64);
    while hi <= n && ok(hi) {
        lo = hi;
        hi *= 2;
    }
    let mut hi = hi.min(n + 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) { lo = mid } else { hi = mid }
    }
    Some(lo)
}

/// LoadGen's server early-stopping criterion: `n` queries of which `over` exceeded the target
/// latency establish that the `p`-quantile meets it. Returns `Ok(())` or `Err(more)` with the
/// number of additional queries needed if every one of them were under latency.
pub fn server_criterion(n: u64, over: u64, p: f64, confidence: f64) -> Result<(), u64> {
    let needed = min_passing_queries(over, p, confidence) + over;
    if n >= needed { Ok(()) } else { Err(needed - n) }
}
