//! Class scores: the one arg-max and rank rule behind top-1 and top-k accuracy and top-1
//! agreement. The highest score wins, ties go to the lower index (numpy's stable
//! `argsort(-scores)`), and a NaN score never wins nor counts as ranked.

/// Index of the highest non-NaN score of `row` (the first one on ties); `None` when every
/// score is NaN or the row is empty.
pub fn argmax<T: Copy + Into<f64>>(row: &[T]) -> Option<usize> {
    row.iter()
        .map(|&v| v.into())
        .enumerate()
        .filter(|(_, v)| !v.is_nan())
        .fold(None, |best: Option<(usize, f64)>, (i, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// Rank of class `label` in `row` sorted by descending score with ties to the lower index
/// (0: the top-1 class, so `rank_of(row, l) == 0` exactly when `argmax(row) == Some(l)`). A
/// NaN score ranks `row.len()`: it is never within the top k.
pub fn rank_of<T: Copy + Into<f64>>(row: &[T], label: usize) -> usize {
    let s: f64 = row[label].into();
    if s.is_nan() {
        return row.len();
    }
    row.iter()
        .map(|&v| v.into())
        .enumerate()
        .filter(|&(i, v)| v > s || (v == s && i < label))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f64::NAN, 0.5]), Some(1));
        assert_eq!(argmax(&[f32::NAN]), None);
        assert_eq!(argmax::<f64>(&[]), None);
    }

    #[test]
    fn rank_zero_is_the_argmax() {
        let rows: [&[f32]; 4] = [
            &[0.1, 0.5, 0.5],
            &[f32::NAN, 0.2, 0.1],
            &[f32::NAN, f32::NAN],
            &[2.0, -1.0, 2.0],
        ];
        for row in rows {
            for label in 0..row.len() {
                assert_eq!(
                    rank_of(row, label) == 0,
                    argmax(row) == Some(label),
                    "{row:?}"
                );
            }
        }
        assert_eq!(rank_of(&[0.1f32, 0.5, 0.5], 2), 1);
        assert_eq!(rank_of(&[f32::NAN, 0.5], 0), 2);
    }
}
