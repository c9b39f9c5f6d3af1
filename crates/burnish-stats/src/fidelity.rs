//! How closely one set of outputs follows a reference: [`Fidelity`] of one output (from its
//! values) and of several outputs or batches together ([`FidelitySum`]).

use serde::{Deserialize, Serialize};

use crate::classify::argmax;

/// Error statistics of an output (or of several, summarized) against its reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fidelity {
    /// Largest absolute difference of any element.
    pub max_abs: f64,
    /// Mean absolute difference.
    pub mean_abs: f64,
    /// Cosine similarity of the flattened outputs (1 when both are all zeros).
    pub cosine: f64,
    /// `10 log10(sum ref^2 / sum (actual - ref)^2)` in dB; `None` for an exact match (infinite).
    #[serde(default)]
    pub snr_db: Option<f64>,
    /// Share of rows (over the last axis) whose top-1 class agrees; `None` for outputs that are
    /// not class scores (last dimension below 2).
    #[serde(default)]
    pub top1_agreement: Option<f64>,
    /// Elements compared.
    #[serde(default)]
    pub count: usize,
}

impl Fidelity {
    /// Lowest top-1 agreement that counts as following the reference.
    pub const MIN_TOP1: f64 = 0.99;
    /// Lowest cosine similarity that counts as following the reference.
    pub const MIN_COSINE: f64 = 0.99;

    /// The statistics of `actual` against `reference` (same length); `classes` is the length
    /// of the last axis when the values may be class scores.
    ///
    /// NaN against NaN counts as equal; any other non-finite mismatch is an infinite error.
    pub fn of(actual: &[f64], reference: &[f64], classes: Option<usize>) -> Fidelity {
        let (mut max_abs, mut sum_abs, mut signal, mut noise) = (0f64, 0f64, 0f64, 0f64);
        let (mut dot, mut norm_a, mut norm_r) = (0f64, 0f64, 0f64);
        for (&x, &y) in actual.iter().zip(reference) {
            let d = element_error(x, y);
            max_abs = max_abs.max(d);
            sum_abs += d;
            noise += d * d;
            if y.is_finite() {
                signal += y * y;
            }
            if x.is_finite() && y.is_finite() {
                dot += x * y;
                norm_a += x * x;
                norm_r += y * y;
            }
        }
        let cosine = match (norm_a > 0.0, norm_r > 0.0) {
            (false, false) => 1.0,
            (true, true) => (dot / (norm_a.sqrt() * norm_r.sqrt())).clamp(-1.0, 1.0),
            _ => 0.0,
        };
        let count = actual.len();
        Fidelity {
            max_abs,
            mean_abs: if count == 0 {
                0.0
            } else {
                sum_abs / count as f64
            },
            cosine,
            snr_db: (noise != 0.0).then(|| 10.0 * (signal / noise).log10()),
            top1_agreement: classes.and_then(|c| top1_agreement(actual, reference, c)),
            count,
        }
    }

    /// Whether the outputs follow the reference: top-1 agreement at least [`Self::MIN_TOP1`]
    /// (where there are classes) and cosine at least [`Self::MIN_COSINE`].
    pub fn follows_reference(&self) -> bool {
        self.cosine >= Self::MIN_COSINE && self.top1_agreement.is_none_or(|t| t >= Self::MIN_TOP1)
    }
}

/// The absolute error of `x` against `y`: NaN against NaN (and equal values) count as 0, any
/// other mismatch involving a non-finite value as infinite.
pub fn element_error(x: f64, y: f64) -> f64 {
    if x == y || (x.is_nan() && y.is_nan()) {
        0.0
    } else if !x.is_finite() || !y.is_finite() {
        f64::INFINITY
    } else {
        (x - y).abs()
    }
}

fn top1_agreement(a: &[f64], r: &[f64], classes: usize) -> Option<f64> {
    if classes < 2 || a.is_empty() {
        return None;
    }
    let rows = a.len() / classes;
    let same = a
        .chunks_exact(classes)
        .zip(r.chunks_exact(classes))
        .filter(|(x, y)| argmax(x) == argmax(y))
        .count();
    Some(same as f64 / rows as f64)
}

/// Several [`Fidelity`]s (outputs, batches) summarized as one: worst cases over all (largest
/// max-abs, lowest cosine and SNR), mean-abs weighted by elements, and the top-1 agreement of
/// the first output with classes (by the name given to [`FidelitySum::add`]) weighted by
/// elements.
#[derive(Debug, Clone, Default)]
pub struct FidelitySum {
    max_abs: f64,
    sum_abs: f64,
    count: usize,
    cosine: Option<f64>,
    snr: Option<f64>,
    top1_output: Option<String>,
    top1_hits: f64,
    top1_count: usize,
}

impl FidelitySum {
    /// Adds the fidelity of output `name`.
    pub fn add(&mut self, name: &str, f: &Fidelity) {
        self.max_abs = self.max_abs.max(f.max_abs);
        self.sum_abs += f.mean_abs * f.count as f64;
        self.count += f.count;
        self.cosine = Some(self.cosine.map_or(f.cosine, |c| c.min(f.cosine)));
        let snr = f.snr_db.unwrap_or(f64::INFINITY);
        self.snr = Some(self.snr.map_or(snr, |s| s.min(snr)));
        if let Some(t) = f.top1_agreement
            && self.top1_output.get_or_insert_with(|| name.to_string()) == name
        {
            self.top1_hits += t * f.count as f64;
            self.top1_count += f.count;
        }
    }

    /// The summary of everything added.
    pub fn summary(&self) -> Fidelity {
        Fidelity {
            max_abs: self.max_abs,
            mean_abs: if self.count == 0 {
                0.0
            } else {
                self.sum_abs / self.count as f64
            },
            cosine: self.cosine.unwrap_or(1.0),
            snr_db: self.snr.filter(|s| s.is_finite()),
            top1_agreement: (self.top1_count > 0).then(|| self.top1_hits / self.top1_count as f64),
            count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_has_no_snr_and_unit_cosine() {
        let x = [1.0, -2.0, 3.0, 0.5, 0.0, -1.0];
        let f = Fidelity::of(&x, &x, Some(3));
        assert_eq!(
            (f.max_abs, f.mean_abs, f.cosine, f.snr_db),
            (0.0, 0.0, 1.0, None)
        );
        assert_eq!(f.top1_agreement, Some(1.0));
    }

    #[test]
    fn closed_form_errors() {
        // reference [3, 4]: signal 25; actual [3, 5]: noise 1 -> SNR 10 log10(25) dB.
        let f = Fidelity::of(&[3.0, 5.0], &[3.0, 4.0], Some(2));
        assert_eq!((f.max_abs, f.mean_abs), (1.0, 0.5));
        assert!((f.snr_db.unwrap() - 10.0 * 25f64.log10()).abs() < 1e-12);
        let cos = (9.0 + 20.0) / (5.0 * 34f64.sqrt());
        assert!((f.cosine - cos).abs() < 1e-12);
    }

    #[test]
    fn opposite_vectors_partial_top1_and_zero_vectors() {
        let r = [1.0, 0.0, 0.0, 1.0];
        let f = Fidelity::of(&[-1.0, 0.0, 0.0, -1.0], &r, Some(2));
        assert!((f.cosine + 1.0).abs() < 1e-12);
        assert_eq!(f.top1_agreement, Some(0.0));
        assert_eq!(
            Fidelity::of(&[1.0, 0.0, 1.0, 0.0], &r, Some(2)).top1_agreement,
            Some(0.5)
        );
        let z = [0.0; 3];
        let f = Fidelity::of(&z, &z, Some(1));
        assert_eq!((f.top1_agreement, f.cosine), (None, 1.0));
        assert_eq!(Fidelity::of(&[1.0; 3], &z, None).cosine, 0.0);
        assert_eq!(Fidelity::of(&z, &[1.0; 3], None).snr_db, Some(0.0));
    }

    #[test]
    fn nan_mismatch_is_infinite() {
        let r = [1.0, f64::NAN];
        assert!(Fidelity::of(&[1.0, 2.0], &r, None).max_abs.is_infinite());
        assert_eq!(Fidelity::of(&r, &r, None).max_abs, 0.0);
    }

    #[test]
    fn a_sum_weights_by_elements_and_keeps_worst_cases() {
        // Run 1: two rows of classes, both agree; run 2: one row that disagrees.
        let f1 = Fidelity::of(&[0.9, 0.1, 0.1, 0.9], &[1.0, 0.0, 0.0, 1.0], Some(2));
        let f2 = Fidelity::of(&[0.0, 1.0], &[1.0, 0.0], Some(2));
        let mut s = FidelitySum::default();
        s.add("p", &f1);
        s.add("p", &f2);
        let f = s.summary();
        assert_eq!(f.top1_agreement, Some(4.0 / 6.0));
        assert_eq!(f.max_abs, 1.0);
        assert!((f.mean_abs - (0.4 + 2.0) / 6.0).abs() < 1e-12);
        assert_eq!(f.cosine, 0.0);
        assert!(!f.follows_reference());
    }
}
