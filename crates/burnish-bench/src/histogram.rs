//! Latency recording: an HDR histogram for percentiles plus a capped, uniform reservoir of raw
//! samples for CDF plots and bootstrap statistics.
//!
//! Values are recorded in nanoseconds with 3 significant digits, so every reported value is
//! within 0.1% of the true one (finer than a microsecond below one millisecond), from 1 ns to one
//! hour; longer values saturate at one hour.

use hdrhistogram::Histogram;

use burnish_stats::Rng;

/// The largest recordable value: one hour, in nanoseconds.
const MAX_NS: u64 = 3_600_000_000_000;

/// Collects latencies of one run (or of one worker thread, to be merged).
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    hist: Histogram<u64>,
    reservoir: Vec<u64>,
    cap: usize,
    seen: u64,
    rng: Rng,
}

impl LatencyRecorder {
    /// An empty recorder keeping at most `sample_cap` raw samples, drawn uniformly from all
    /// recorded values (reservoir sampling seeded by `seed`).
    pub fn new(sample_cap: usize, seed: u64) -> Self {
        // `new_with_bounds` only fails for inconsistent bounds, which these are not.
        let hist = Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid histogram bounds");
        Self {
            hist,
            reservoir: Vec::with_capacity(sample_cap.min(4096)),
            cap: sample_cap,
            seen: 0,
            rng: Rng::new(seed),
        }
    }

    /// Records one latency, in nanoseconds.
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(1, MAX_NS);
        self.hist.saturating_record(v);
        self.seen += 1;
        if self.reservoir.len() < self.cap {
            self.reservoir.push(v);
        } else if self.cap > 0 {
            let j = self.rng.below(self.seen);
            if (j as usize) < self.cap {
                self.reservoir[j as usize] = v;
            }
        }
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        self.seen
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }

    /// The histogram of all recorded values.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// The retained raw samples (ns), a uniform sample of everything recorded, in no order.
    pub fn samples(&self) -> &[u64] {
        &self.reservoir
    }

    /// Merges another recorder into this one. The merged reservoir is again a uniform sample of
    /// the union: each slot comes from `self` or `other` with probability proportional to the
    /// number of values each has not yet contributed (a hypergeometric draw). When a side's
    /// reservoir runs out before the cap is reached (it kept fewer samples than this recorder's
    /// cap), the draw stops there: a smaller sample, still uniform.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        // Both histograms share bounds, so `add` cannot fail.
        self.hist.add(&other.hist).expect("same histogram bounds");
        let total = self.seen + other.seen;
        let keep = self.cap.min(usize::try_from(total).unwrap_or(usize::MAX));
        if total as usize <= self.cap {
            self.reservoir.extend_from_slice(&other.reservoir);
        } else {
            let mut mine = std::mem::take(&mut self.reservoir);
            let mut theirs = other.reservoir.clone();
            shuffle(&mut mine, &mut self.rng);
            shuffle(&mut theirs, &mut self.rng);
            let (mut left_a, mut left_b) = (self.seen, other.seen);
            let mut out = Vec::with_capacity(keep);
            while out.len() < keep && left_a + left_b > 0 {
                let take_a = self.rng.below(left_a + left_b) < left_a;
                let next = if take_a {
                    left_a -= 1;
                    mine.pop()
                } else {
                    left_b -= 1;
                    theirs.pop()
                };
                match next {
                    Some(v) => out.push(v),
                    None => break,
                }
            }
            self.reservoir = out;
        }
        self.seen = total;
    }

    /// Number of recorded values strictly greater than `ns`.
    pub fn count_above(&self, ns: u64) -> u64 {
        let at_or_below = self
            .hist
            .iter_recorded()
            .take_while(|v| v.value_iterated_to() <= ns)
            .map(|v| v.count_at_value())
            .sum::<u64>();
        self.hist.len() - at_or_below
    }

    /// The value with 1-based `rank` in ascending order (rank 1 = minimum, rank `len` = maximum),
    /// within the histogram's precision.
    pub fn value_at_rank(&self, rank: u64) -> u64 {
        let mut cumulative = 0;
        for v in self.hist.iter_recorded() {
            cumulative += v.count_at_value();
            if cumulative >= rank {
                return self.hist.highest_equivalent(v.value_iterated_to());
            }
        }
        self.hist.max()
    }
}

fn shuffle(v: &mut [u64], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}
