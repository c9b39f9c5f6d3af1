//! Signal windows (`HannWindow`, `HammingWindow`, `BlackmanWindow`) and `MelWeightMatrix`.

use burnish_model::DType;

use super::host::{numeric_value, scalar_f64, scalar_i64};
use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// Generalized cosine window `a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)`.
fn cosine_window(ctx: &BuildCtx, a: [f64; 3]) -> Result<Box<dyn Op>, String> {
    let periodic = ctx.int("periodic", 1)? != 0;
    let dtype = ctx.int("output_datatype", 1)?;
    numeric_value(vec![], vec![0], dtype)?;
    op(move |mut ins| {
        let size = scalar_i64(&ins.take(0)?, "size")?;
        if size < 0 {
            return Err(format!("window size {size} is negative"));
        }
        let n = size as usize;
        crate::ops::util::check_numel(&[n])?;
        let period = if periodic { size } else { size - 1 } as f64;
        let tau = 2.0 * std::f64::consts::PI;
        let w = (0..n)
            .map(|i| {
                let x = i as f64 * tau / period;
                a[0] - a[1] * x.cos() + a[2] * (2.0 * x).cos()
            })
            .collect();
        Ok(vec![numeric_value(w, vec![n], dtype)?])
    })
}

/// `HannWindow(size)`.
pub fn hann_window(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    cosine_window(ctx, [0.5, 0.5, 0.0])
}

/// `HammingWindow(size)` (alpha 25/46).
pub fn hamming_window(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    cosine_window(ctx, [25.0 / 46.0, 21.0 / 46.0, 0.0])
}

/// `BlackmanWindow(size)`.
pub fn blackman_window(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    cosine_window(ctx, [0.42, 0.5, 0.08])
}

fn hz_to_mel(hz: f64, single: bool) -> f64 {
    if single {
        let h = hz as f32;
        (2595f32 * (1f32 + h / 700f32).log10()) as f64
    } else {
        2595.0 * (1.0 + hz / 700.0).log10()
    }
}

/// `MelWeightMatrix(num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
/// upper_edge_hertz)`: triangular filters, `[dft_length / 2 + 1, num_mel_bins]`.
pub fn mel_weight_matrix(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let dtype = ctx.int("output_datatype", 1)?;
    numeric_value(vec![], vec![0], dtype)?;
    op(move |mut ins| {
        let mels = scalar_i64(&ins.take(0)?, "num_mel_bins")?;
        let dft = scalar_i64(&ins.take(1)?, "dft_length")?;
        let rate = scalar_i64(&ins.take(2)?, "sample_rate")?;
        let lower = ins.take(3)?;
        let single = matches!(&lower, Value::Float(_)) && lower.dtype() != DType::F64;
        let low = scalar_f64(&lower, "lower_edge_hertz")?;
        let high = scalar_f64(&ins.take(4)?, "upper_edge_hertz")?;
        if mels < 0 || dft < 0 || rate <= 0 {
            return Err(format!(
                "num_mel_bins {mels}, dft_length {dft} and sample_rate {rate} must be positive"
            ));
        }
        let (mels, spec) = (mels as usize, dft as usize / 2 + 1);
        let total = crate::ops::util::check_numel(&[spec, mels])?;
        let (low_mel, high_mel) = (hz_to_mel(low, single), hz_to_mel(high, single));
        let mut step = (high_mel - low_mel) / (mels + 2) as f64;
        if single {
            step = step as f32 as f64;
        }
        let bins: Vec<i64> = (0..mels + 2)
            .map(|i| {
                let hz = 700.0 * (10f64.powf((i as f64 * step + low_mel) / 2595.0) - 1.0);
                (((dft + 1) as f64 * hz) / rate as f64).floor() as i64
            })
            .collect();
        let mut out = vec![0f64; total];
        let last = spec as i64 - 1;
        let mut set = |j: i64, i: usize, v: f64| {
            if (0..=last).contains(&j) {
                out[j as usize * mels + i] = v;
            }
        };
        for i in 0..mels {
            let (lo, center, hi) = (bins[i], bins[i + 1], bins[i + 2]);
            if center == lo {
                set(center, i, 1.0);
            } else {
                for j in lo.max(0)..=center.min(last) {
                    set(j, i, (j as f64 - lo as f64) / (center as f64 - lo as f64));
                }
            }
            if hi > center {
                for j in center.max(0)..hi.min(last + 1) {
                    set(j, i, (hi as f64 - j as f64) / (hi as f64 - center as f64));
                }
            }
        }
        Ok(vec![numeric_value(out, vec![spec, mels], dtype)?])
    })
}
