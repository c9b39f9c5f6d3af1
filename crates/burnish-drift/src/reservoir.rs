//! Deterministic subsampling: per-feature seeds and a reservoir sampler.

use burnish_stats::{Rng, splitmix64};

/// FNV-1a of a name, mixed into the seed so that each feature gets its own stream no matter in
/// which order inputs are added.
pub(crate) fn name_seed(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    splitmix64(seed ^ h)
}

/// Uniform reservoir sample without replacement (Vitter's algorithm R) of at most `capacity`
/// values; below the capacity it keeps every value in order.
#[derive(Debug)]
pub(crate) struct Reservoir {
    kept: Vec<f32>,
    capacity: usize,
    seen: usize,
    rng: Rng,
}

impl Reservoir {
    pub(crate) fn new(capacity: usize, expected: usize, seed: u64) -> Self {
        Reservoir {
            kept: Vec::with_capacity(capacity.min(expected)),
            capacity,
            seen: 0,
            rng: Rng::new(seed),
        }
    }

    pub(crate) fn push(&mut self, v: f32) {
        if self.kept.len() < self.capacity {
            self.kept.push(v);
        } else {
            let j = self.rng.below(self.seen as u64 + 1) as usize;
            if j < self.capacity {
                self.kept[j] = v;
            }
        }
        self.seen += 1;
    }

    /// The kept values and how many were offered in total.
    pub(crate) fn finish(self) -> (Vec<f32>, usize) {
        (self.kept, self.seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservoir_keeps_everything_below_capacity() {
        let mut r = Reservoir::new(10, 5, 1);
        (0..5).for_each(|i| r.push(i as f32));
        assert_eq!(r.finish(), (vec![0.0, 1.0, 2.0, 3.0, 4.0], 5));
    }

    #[test]
    fn reservoir_is_deterministic_and_roughly_uniform() {
        let run = |seed| {
            let mut r = Reservoir::new(1000, 100_000, seed);
            (0..100_000).for_each(|i| r.push(i as f32));
            r.finish()
        };
        let (a, seen) = run(7);
        assert_eq!(seen, 100_000);
        assert_eq!(a, run(7).0);
        assert_ne!(a, run(8).0);
        let mean = a.iter().map(|&v| f64::from(v)).sum::<f64>() / a.len() as f64;
        assert!((mean - 50_000.0).abs() < 3_000.0, "mean {mean}");
    }
}
