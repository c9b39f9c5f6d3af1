//! Numerical comparison of tensors: errors against a reference.

use serde::Serialize;

use crate::error::CompareError;
use crate::tensor::{Buffer, TensorData};

/// How far `actual` is from `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diff {
    /// Largest absolute difference.
    pub max_abs: f64,
    /// Largest relative difference, each element relative to
    /// `max(|expected_i|, 1e-3 * max|expected|)` so near-zero elements do not dominate.
    pub max_rel: f64,
    /// Elements compared.
    pub count: usize,
}

/// Compares two tensors; `Err` explains a shape or type mismatch. NaNs match NaNs; any other
/// NaN or infinity mismatch counts as an infinite error. String tensors compare exactly: any
/// differing element is an infinite error.
pub fn diff(actual: &TensorData, expected: &TensorData) -> Result<Diff, CompareError> {
    if actual.shape != expected.shape {
        return Err(CompareError::Shape {
            actual: actual.shape.clone(),
            expected: expected.shape.clone(),
        });
    }
    if actual.dtype() != expected.dtype() {
        return Err(CompareError::Type {
            actual: actual.dtype(),
            expected: expected.dtype(),
        });
    }
    if let (Buffer::String(a), Buffer::String(e)) = (&actual.data, &expected.data) {
        let differ = a.iter().zip(e).any(|(x, y)| x != y);
        let err = if differ { f64::INFINITY } else { 0.0 };
        return Ok(Diff {
            max_abs: err,
            max_rel: err,
            count: a.len(),
        });
    }
    let a = actual.to_f64_vec().ok_or(CompareError::NotNumeric)?;
    let e = expected.to_f64_vec().ok_or(CompareError::NotNumeric)?;
    let scale = e
        .iter()
        .filter(|v| v.is_finite())
        .fold(0f64, |m, v| m.max(v.abs()));
    let floor = (1e-3 * scale).max(1e-30);
    let (mut max_abs, mut max_rel) = (0f64, 0f64);
    for (&x, &y) in a.iter().zip(&e) {
        let d = burnish_stats::fidelity::element_error(x, y);
        max_abs = max_abs.max(d);
        max_rel = max_rel.max(d / y.abs().max(floor));
    }
    Ok(Diff {
        max_abs,
        max_rel,
        count: a.len(),
    })
}

/// numpy's `allclose` criterion: every `|a - e| <= atol + rtol * |e|`.
pub fn allclose(
    actual: &TensorData,
    expected: &TensorData,
    rtol: f64,
    atol: f64,
) -> Result<bool, CompareError> {
    let d = diff(actual, expected)?;
    if actual.dtype() == crate::DType::String {
        return Ok(d.max_abs == 0.0);
    }
    let a = actual.to_f64_vec().ok_or(CompareError::NotNumeric)?;
    let e = expected.to_f64_vec().ok_or(CompareError::NotNumeric)?;
    Ok(a.iter().zip(&e).all(|(&x, &y)| {
        (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= atol + rtol * y.abs()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> TensorData {
        let data = Buffer::String(v.iter().map(|s| s.to_string()).collect());
        TensorData::new(vec![v.len()], data).expect("shape")
    }

    #[test]
    fn string_tensors_compare_exactly() {
        let a = strings(&["a", "bc"]);
        assert_eq!(allclose(&a, &strings(&["a", "bc"]), 1e-3, 1e-7), Ok(true));
        assert_eq!(allclose(&a, &strings(&["a", "b"]), 1e-3, 1e-7), Ok(false));
        let short = allclose(&a, &strings(&["a"]), 1e-3, 1e-7).unwrap_err();
        assert_eq!(short.to_string(), "shape [2], expected [1]");
        let f = TensorData::from_f32(vec![2], vec![1.0, 2.0]);
        let typed = allclose(&a, &f, 1e-3, 1e-7).unwrap_err();
        assert_eq!(typed.to_string(), "type string, expected float");
    }
}
