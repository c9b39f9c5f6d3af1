//! Category counts for categorical features and predicted classes, with sparse categories
//! pooled.

use std::collections::BTreeMap;

use crate::chi_square::{ChiSquare, chi_square_homogeneity};
use crate::psi::{Psi, psi_from_counts};

/// Categories seen fewer than this many times on both sides together are pooled into one
/// "rare" cell. Without pooling, a 50 000-token vocabulary or a 1 000-class output sampled a few
/// thousand times is mostly singletons: each adds an epsilon-sized PSI term and a chi-square cell
/// with an expected count far below the approximation's ~5, and together they raise false
/// alarms on identical distributions.
pub const MIN_CELL_TOTAL: u64 = 10;

/// Reference and current counts over the same cells, rare categories pooled into the last cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryTable {
    /// Reference count per cell.
    pub reference: Vec<u64>,
    /// Current count per cell.
    pub current: Vec<u64>,
    /// Categories observed on either side before pooling.
    pub observed: usize,
    /// How many of them went into the pooled cell.
    pub pooled: usize,
}

impl CategoryTable {
    /// Builds the table from per-category counts (same length and order on both sides);
    /// categories empty on both sides are dropped.
    ///
    /// # Panics
    /// If the two count slices differ in length.
    pub fn from_counts(reference: &[u64], current: &[u64]) -> Self {
        assert_eq!(reference.len(), current.len(), "categories must match");
        let mut table = CategoryTable {
            reference: Vec::new(),
            current: Vec::new(),
            observed: 0,
            pooled: 0,
        };
        let mut rare = (0, 0);
        for (&r, &c) in reference.iter().zip(current) {
            match r + c {
                0 => continue,
                t if t < MIN_CELL_TOTAL => {
                    rare = (rare.0 + r, rare.1 + c);
                    table.pooled += 1;
                }
                _ => {
                    table.reference.push(r);
                    table.current.push(c);
                }
            }
            table.observed += 1;
        }
        if table.pooled > 0 {
            table.reference.push(rare.0);
            table.current.push(rare.1);
        }
        table
    }

    /// Counts the integer values of a categorical feature (keyed by their `i64` value).
    pub fn from_values(reference: &[f32], current: &[f32]) -> Self {
        let mut map: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for &v in reference {
            map.entry(v as i64).or_default().0 += 1;
        }
        for &v in current {
            map.entry(v as i64).or_default().1 += 1;
        }
        let (r, c): (Vec<u64>, Vec<u64>) = map.into_values().unzip();
        Self::from_counts(&r, &c)
    }

    /// PSI over the cells.
    pub fn psi(&self, epsilon: f64) -> Psi {
        Psi {
            value: psi_from_counts(&self.reference, &self.current, epsilon),
            bins: self.reference.len(),
        }
    }

    /// Chi-square homogeneity test over the cells.
    pub fn chi_square(&self) -> ChiSquare {
        chi_square_homogeneity(&self.reference, &self.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_rare_and_drops_empty() {
        let t = CategoryTable::from_counts(&[50, 0, 2, 1, 0], &[40, 0, 3, 0, 20]);
        assert_eq!(t.reference, vec![50, 0, 3]);
        assert_eq!(t.current, vec![40, 20, 3]);
        assert_eq!((t.observed, t.pooled), (4, 2));
    }

    #[test]
    fn counts_values() {
        let t = CategoryTable::from_values(&[1.0; 20], &[2.0; 30]);
        assert_eq!((t.reference, t.current), (vec![20, 0], vec![0, 30]));
    }
}
