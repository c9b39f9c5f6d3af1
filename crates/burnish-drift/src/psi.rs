//! Population stability index.
//!
//! `PSI = Σ_i (c_i − r_i) · ln(c_i / r_i)` over bins, where `r_i` and `c_i` are the reference and
//! current shares of bin `i`. Shares below `epsilon` are raised to `epsilon` first, so an empty
//! bin adds a large but finite term (the convention of Evidently and most PSI write-ups; the
//! shares are not renormalized afterwards).
//!
//! PSI is biased upward on small samples: with no drift at all its expectation is about
//! `(bins − 1) · (1/n + 1/m)` ([`psi_noise_floor`]), 0.28 for 10 bins and 64 samples per side.
//! Below a few hundred values per side, trust the test's p-value more than PSI.
//!
//! Continuous features are binned at reference quantiles ([`quantile_edges`]); categorical ones
//! and predicted classes use one bin per category
//! ([`CategoryTable`](crate::categories::CategoryTable)).

use serde::{Deserialize, Serialize};

use crate::SortedValues;

/// A PSI value and the number of bins it was computed over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    /// The index, >= 0.
    pub value: f64,
    /// Bins (or categories) actually used; quantile bins shrink when reference values tie.
    pub bins: usize,
}

/// Expected PSI between two samples of sizes `n` and `m` drawn from one distribution, over
/// `bins` bins (the chi-square approximation of PSI's sampling noise).
pub fn psi_noise_floor(bins: usize, n: usize, m: usize) -> f64 {
    bins.saturating_sub(1) as f64 * (1.0 / n as f64 + 1.0 / m as f64)
}

/// Inner bin edges at the reference quantiles `k / bins`, `k = 1 .. bins − 1` (linear
/// interpolation, numpy's default), with duplicates removed.
///
/// Bins are right-closed: `(−∞, e_1], (e_1, e_2], …, (e_last, +∞)`, so a point mass (for example
/// the zeros after a ReLU) falls into the bin whose upper edge it is rather than smearing into
/// the next one.
pub fn quantile_edges(reference: &SortedValues, bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = (1..bins)
        .map(|k| reference.quantile(k as f64 / bins as f64))
        .collect();
    edges.dedup();
    edges
}

/// Counts per right-closed bin; `sorted` must be ascending.
fn bin_counts(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut start = 0;
    for &edge in edges {
        let end = start + sorted[start..].partition_point(|&v| v <= edge);
        counts.push((end - start) as u64);
        start = end;
    }
    counts.push((sorted.len() - start) as u64);
    counts
}

/// PSI of `current` against `reference` over `bins` reference-quantile bins.
pub fn binned_psi(
    reference: &SortedValues,
    current: &SortedValues,
    bins: usize,
    epsilon: f64,
) -> Psi {
    let edges = quantile_edges(reference, bins);
    let r = bin_counts(reference.as_slice(), &edges);
    let c = bin_counts(current.as_slice(), &edges);
    Psi {
        value: psi_from_counts(&r, &c, epsilon),
        bins: r.len(),
    }
}

/// PSI from per-bin counts (same length on both sides).
///
/// # Panics
/// If the two count slices differ in length.
pub fn psi_from_counts(reference: &[u64], current: &[u64], epsilon: f64) -> f64 {
    assert_eq!(reference.len(), current.len(), "PSI needs matching bins");
    let rn = reference.iter().sum::<u64>().max(1) as f64;
    let cn = current.iter().sum::<u64>().max(1) as f64;
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| {
            let r = (r as f64 / rn).max(epsilon);
            let c = (c as f64 / cn).max(epsilon);
            (c - r) * (c / r).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_closed_bins() {
        assert_eq!(
            bin_counts(&[0.0, 0.0, 1.0, 2.0, 3.0], &[0.0, 2.0]),
            vec![2, 2, 1]
        );
        assert_eq!(bin_counts(&[5.0], &[0.0, 2.0]), vec![0, 0, 1]);
    }

    #[test]
    fn tied_reference_collapses_bins() {
        let r = SortedValues::new(
            "r",
            &[0.0; 8]
                .iter()
                .chain(&[1.0, 2.0])
                .copied()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let edges = quantile_edges(&r, 10);
        assert_eq!(edges[0], 0.0);
        assert!(edges.windows(2).all(|w| w[0] < w[1]));
    }
}
