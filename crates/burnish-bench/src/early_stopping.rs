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

/// `P(X <= t)` for `X ~ Binomial(n, q)`, as the regularized incomplete beta function
/// `I_{1-q}(n - t, t + 1)`: accurate to about 1e-12 and fast for any `n`.
fn binomial_cdf(t: u64, n: u64, q: f64) -> f64 {
    if t >= n || q <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return 0.0;
    }
    beta_regularized(1.0 - q, (n - t) as f64, (t + 1) as f64)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    0.5 * std::f64::consts::TAU.ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// Regularized incomplete beta `I_x(a, b)` by its continued fraction (modified Lentz), using
/// the symmetry `I_x(a, b) = 1 - I_{1-x}(b, a)` where the fraction converges faster.
fn beta_regularized(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_fraction(x, a, b) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b).clamp(0.0, 1.0)
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

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
