//! The two-sample Kolmogorov-Smirnov test on [`SortedValues`]; the statistic and its p-value
//! (ties, Stephens' correction) are those of [`burnish_stats::ks`].

pub use burnish_stats::ks::KsResult;

use crate::SortedValues;

/// Statistic and p-value of `current` against `reference`.
pub fn ks_test(reference: &SortedValues, current: &SortedValues) -> KsResult {
    burnish_stats::ks::ks_two_sample(reference.as_slice(), current.as_slice())
}
