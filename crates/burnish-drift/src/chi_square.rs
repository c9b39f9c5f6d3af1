//! Chi-square test of homogeneity between reference and current category counts.

use serde::{Deserialize, Serialize};

use burnish_stats::special::chi_square_sf;

/// A chi-square statistic, its degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// `Σ (observed − expected)² / expected` over the 2 × K table.
    pub statistic: f64,
    /// Non-empty categories minus one.
    pub df: usize,
    /// Probability of a statistic at least this large if both sides share a distribution.
    pub p_value: f64,
}

/// Tests whether two count vectors over the same categories come from one distribution
/// (2 × K contingency table; categories empty on both sides are skipped). Pool sparse
/// categories first ([`CategoryTable`](crate::categories::CategoryTable) does): the
/// approximation needs expected counts of about 5 or more per cell.
///
/// With fewer than two non-empty cells, or an empty side, there is nothing to test: the
/// statistic is 0 and the p-value 1.
///
/// # Panics
/// If the two count slices differ in length.
pub fn chi_square_homogeneity(reference: &[u64], current: &[u64]) -> ChiSquare {
    assert_eq!(
        reference.len(),
        current.len(),
        "chi-square needs matching categories"
    );
    let cells: Vec<(u64, u64)> = reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (r, c))
        .filter(|&(r, c)| r + c > 0)
        .collect();
    let rn: u64 = cells.iter().map(|c| c.0).sum();
    let cn: u64 = cells.iter().map(|c| c.1).sum();
    if cells.len() < 2 || rn == 0 || cn == 0 {
        return ChiSquare {
            statistic: 0.0,
            df: 0,
            p_value: 1.0,
        };
    }
    let total = (rn + cn) as f64;
    let statistic = cells
        .iter()
        .map(|&(r, c)| {
            let col = (r + c) as f64;
            let er = col * rn as f64 / total;
            let ec = col * cn as f64 / total;
            (r as f64 - er).powi(2) / er + (c as f64 - ec).powi(2) / ec
        })
        .sum::<f64>();
    let df = cells.len() - 1;
    ChiSquare {
        statistic,
        df,
        p_value: chi_square_sf(statistic, df as f64),
    }
}
