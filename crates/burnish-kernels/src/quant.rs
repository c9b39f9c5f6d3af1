//! Quantization helpers the quantizer needs around the kernels.

/// Quantizes row-major f32 weights `w` (`k` x `n`) to i8, symmetric per column (per output
/// channel) in `[-127, 127]`. Returns the codes and one scale per column (`max|w| / 127`, or 1
/// for an all-zero column).
pub fn quantize_weights_per_column(w: &[f32], k: usize, n: usize) -> (Vec<i8>, Vec<f32>) {
    assert_eq!(w.len(), k * n, "weights length");
    let mut max_abs = vec![0.0f32; n];
    for row in w.chunks_exact(n) {
        for (m, &v) in max_abs.iter_mut().zip(row) {
            *m = m.max(v.abs());
        }
    }
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| {
            if m > 0.0 && m.is_finite() {
                m / 127.0
            } else {
                1.0
            }
        })
        .collect();
    let codes = w
        .chunks_exact(n)
        .flat_map(|row| {
            row.iter()
                .zip(&scales)
                .map(|(&v, &s)| (v / s).round_ties_even().clamp(-127.0, 127.0) as i8)
        })
        .collect();
    (codes, scales)
}

/// Dynamic asymmetric u8 quantization of activations over `[min(x, 0), max(x, 0)]`.
/// Returns the codes, the scale and the zero point.
pub fn quantize_activations_u8(x: &[f32]) -> (Vec<u8>, f32, u8) {
    let (lo, hi) = x
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero_point = (-lo / scale).round_ties_even().clamp(0.0, 255.0) as u8;
    let zp = f32::from(zero_point);
    let codes = x
        .iter()
        .map(|&v| ((v / scale).round_ties_even() + zp).clamp(0.0, 255.0) as u8)
        .collect();
    (codes, scale, zero_point)
}
