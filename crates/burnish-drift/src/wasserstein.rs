//! Wasserstein-1 (earth mover's) distance between two empirical distributions.

use serde::{Deserialize, Serialize};

use crate::SortedValues;

/// W1 in the feature's units and relative to the reference spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Wasserstein {
    /// `∫ |F_ref(x) − F_cur(x)| dx`, in the feature's units.
    pub distance: f64,
    /// `distance` divided by the reference's population standard deviation; `None` when the
    /// reference is constant. Comparable across features; Evidently flags drift above 0.1.
    pub normalized: Option<f64>,
}

/// Exact W1 between the empirical distributions of two samples of any sizes:
/// `∫ |F_a(x) − F_b(x)| dx`, integrated piecewise between consecutive distinct values.
pub fn wasserstein_1(a: &SortedValues, b: &SortedValues) -> f64 {
    let (a, b) = (a.as_slice(), b.as_slice());
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut prev = a[0].min(b[0]);
    let mut total = 0.0;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => unreachable!(),
        };
        total += (i as f64 / n - j as f64 / m).abs() * (x - prev);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        prev = x;
    }
    total
}

/// W1 plus its normalization by the reference standard deviation.
pub fn wasserstein(reference: &SortedValues, current: &SortedValues) -> Wasserstein {
    let distance = wasserstein_1(reference, current);
    let std = reference.std();
    Wasserstein {
        distance,
        normalized: (std > 0.0).then(|| distance / std),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(v: &[f32]) -> SortedValues {
        SortedValues::new("t", v).unwrap()
    }

    #[test]
    fn single_points() {
        assert_eq!(wasserstein_1(&sorted(&[0.0]), &sorted(&[3.0])), 3.0);
        assert_eq!(
            wasserstein_1(&sorted(&[1.0, 2.0]), &sorted(&[1.0, 2.0])),
            0.0
        );
        // Half the mass moves from 0 to 1.
        assert_eq!(
            wasserstein_1(&sorted(&[0.0, 0.0]), &sorted(&[0.0, 1.0])),
            0.5
        );
    }
}
