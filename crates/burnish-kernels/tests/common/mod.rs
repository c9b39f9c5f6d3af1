//! Shared test helpers: a deterministic generator and value distributions.

#![allow(dead_code)]

/// Test data drawn from the project's one seeded generator.
pub struct Rng(burnish_stats::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(burnish_stats::Rng::new(seed))
    }

    pub fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    /// Bytes drawn from one of several distributions: uniform, extremes only, or mostly zero.
    pub fn bytes(&mut self, len: usize, mode: usize) -> Vec<u8> {
        const EXTREMES: [u8; 4] = [0, 255, 128, 127];
        (0..len)
            .map(|_| match mode % 3 {
                0 => self.next() as u8,
                1 => EXTREMES[self.below(4)],
                _ => {
                    if self.below(4) == 0 {
                        self.next() as u8
                    } else {
                        0
                    }
                }
            })
            .collect()
    }

    pub fn weights(&mut self, len: usize, mode: usize) -> Vec<i8> {
        self.bytes(len, mode).into_iter().map(|v| v as i8).collect()
    }
}
