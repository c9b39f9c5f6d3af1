//! Seeded synthetic data for the integration tests, drawn from burnish-stats' [`Rng`].

#![allow(dead_code)]

pub use burnish_stats::Rng;

/// Draws the tests need on top of the generator.
pub trait Draws {
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64;
    /// `n` draws from N(mean, std²) as f32.
    fn normals(&mut self, n: usize, mean: f64, std: f64) -> Vec<f32>;
    /// Index drawn from the discrete distribution `probs` (summing to 1).
    fn categorical(&mut self, probs: &[f64]) -> usize;
}

impl Draws for Rng {
    fn uniform(&mut self) -> f64 {
        self.next_f64()
    }

    fn normals(&mut self, n: usize, mean: f64, std: f64) -> Vec<f32> {
        (0..n)
            .map(|_| (mean + std * self.normal()) as f32)
            .collect()
    }

    fn categorical(&mut self, probs: &[f64]) -> usize {
        let mut u = self.next_f64();
        for (i, p) in probs.iter().enumerate() {
            if u < *p {
                return i;
            }
            u -= p;
        }
        probs.len() - 1
    }
}
