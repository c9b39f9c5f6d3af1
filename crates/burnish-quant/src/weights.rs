//! Weight quantization: symmetric int8 (per channel or per tensor), int32 biases, and 4-bit
//! codes in blocks.

/// Symmetric int8 codes of `w` (shape `shape`) with one scale per index of `axis` (or one scale
/// when `axis` is `None`): `scale = max |w| / max_code`, codes in `-max_code..=max_code` (127
/// for 8 bits, 63 for 7), zero points 0.
pub fn quantize_symmetric(
    w: &[f32],
    shape: &[usize],
    axis: Option<usize>,
    max_code: u8,
) -> (Vec<i8>, Vec<f32>) {
    let top_code = f32::from(max_code);
    let (outer, channels, inner) = split(shape, axis);
    let channel = |i: usize| (i / inner) % channels;
    let mut top = vec![0f32; channels];
    for (i, &x) in w.iter().enumerate() {
        let c = channel(i);
        top[c] = top[c].max(x.abs());
    }
    let scales: Vec<f32> = top
        .iter()
        .map(|&m| if m > 0.0 { m / top_code } else { 1.0 })
        .collect();
    let codes = w
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            (x / scales[channel(i)])
                .round_ties_even()
                .clamp(-top_code, top_code) as i8
        })
        .collect();
    debug_assert_eq!(outer * channels * inner, w.len());
    (codes, scales)
}

/// `(outer, channels, inner)` sizes around `axis` (all of `shape` is one channel without it).
fn split(shape: &[usize], axis: Option<usize>) -> (usize, usize, usize) {
    match axis {
        None => (shape.iter().product(), 1, 1),
        Some(a) => (
            shape[..a].iter().product(),
            shape[a],
            shape[a + 1..].iter().product(),
        ),
    }
}

/// int32 bias codes for `bias` with scale `x_scale * w_scales[c]` (one weight scale, or one per
/// bias element).
pub fn quantize_bias(bias: &[f32], x_scale: f32, w_scales: &[f32]) -> (Vec<i32>, Vec<f32>) {
    let scales: Vec<f32> = (0..bias.len())
        .map(|i| x_scale * w_scales[if w_scales.len() == 1 { 0 } else { i }])
        .collect();
    let codes = bias
        .iter()
        .zip(&scales)
        .map(|(&b, &s)| {
            (b as f64 / s as f64)
                .round_ties_even()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect();
    (codes, scales)
}

/// Symmetric 4-bit codes (`-7..=7`, stored one per i8) of a 2-D `[rows, cols]` matrix in blocks
/// of `block` consecutive rows per column (blocks along axis 0, the reduction axis of a MatMul
/// weight). Returns the codes and the `[ceil(rows / block), cols]` scales, as ONNX's blocked
/// `DequantizeLinear` (`axis = 0`, `block_size`) reads them.
pub fn quantize_blocks_int4(
    w: &[f32],
    rows: usize,
    cols: usize,
    block: usize,
) -> (Vec<i8>, Vec<f32>) {
    let blocks = rows.div_ceil(block);
    let mut top = vec![0f32; blocks * cols];
    for r in 0..rows {
        for c in 0..cols {
            let s = &mut top[(r / block) * cols + c];
            *s = s.max(w[r * cols + c].abs());
        }
    }
    let scales: Vec<f32> = top
        .iter()
        .map(|&m| if m > 0.0 { m / 7.0 } else { 1.0 })
        .collect();
    let codes = (0..rows * cols)
        .map(|i| {
            let (r, c) = (i / cols, i % cols);
            (w[i] / scales[(r / block) * cols + c])
                .round_ties_even()
                .clamp(-7.0, 7.0) as i8
        })
        .collect();
    (codes, scales)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_scales_follow_the_axis() {
        let w = [1.0, -2.0, 0.5, 0.25, 4.0, -1.0];
        let (codes, scales) = quantize_symmetric(&w, &[2, 3], Some(1), 127);
        assert_eq!(scales, vec![1.0 / 127.0, 4.0 / 127.0, 1.0 / 127.0]);
        assert_eq!(codes, vec![127, -64, 64, 32, 127, -127]);
        let (codes, scales) = quantize_symmetric(&w, &[2, 3], Some(0), 127);
        assert_eq!(scales, vec![2.0 / 127.0, 4.0 / 127.0]);
        assert_eq!(codes[1], -127);
        let (_, scales) = quantize_symmetric(&w, &[2, 3], None, 127);
        assert_eq!(scales, vec![4.0 / 127.0]);
    }

    #[test]
    fn int4_blocks_cover_the_rows_of_each_column() {
        let w: Vec<f32> = (0..6).map(|i| i as f32).collect(); // 3 x 2
        let (codes, scales) = quantize_blocks_int4(&w, 3, 2, 2);
        assert_eq!(scales, vec![2.0 / 7.0, 3.0 / 7.0, 4.0 / 7.0, 5.0 / 7.0]);
        assert_eq!(codes, vec![0, 2, 7, 7, 7, 7]);
    }

    #[test]
    fn bias_scale_is_input_times_weight_scale() {
        let (codes, scales) = quantize_bias(&[1.0, -0.5], 0.1, &[0.5, 0.25]);
        assert_eq!(scales, vec![0.05, 0.025]);
        assert_eq!(codes, vec![20, -20]);
    }
}
