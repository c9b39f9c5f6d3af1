//! The training-mode path of `BatchNormalization`: normalizes with the batch statistics and
//! updates the running ones.

use super::host::{HostFloat, host_float, upload};
use crate::value::Value;

/// `BatchNormalization` in training mode on `x` (`[N, C, ...]`) with `params` = scale, bias,
/// running mean and running var (each `[C]`): returns `Y`, the updated running mean and var
/// (`mean * momentum + batch_mean * (1 - momentum)`), and, when `saved` is set, the batch
/// mean and (population) variance.
pub(crate) fn batch_norm_training(
    x: &Value,
    params: [&Value; 4],
    eps: f64,
    momentum: f64,
    saved: bool,
) -> Result<Vec<Value>, String> {
    let x = host_float(x, "X")?;
    let names = ["scale", "B", "input_mean", "input_var"];
    let mut p: Vec<HostFloat> = Vec::with_capacity(4);
    for (v, name) in params.into_iter().zip(names) {
        p.push(host_float(v, name)?);
    }
    let c = *x
        .shape
        .get(1)
        .ok_or_else(|| format!("X must have rank >= 2, found shape {:?}", x.shape))?;
    for (t, name) in p.iter().zip(names) {
        if t.shape != [c] {
            return Err(format!("{name} has shape {:?}, expected [{c}]", t.shape));
        }
    }
    let inner: usize = x.shape[2..].iter().product();
    let count = (x.shape[0] * inner) as f64;
    let (mut mean, mut var) = (vec![0.0; c], vec![0.0; c]);
    let plane = |i: usize| (i / inner.max(1)) % c;
    for (i, &v) in x.data.iter().enumerate() {
        mean[plane(i)] += v;
    }
    mean.iter_mut().for_each(|m| *m /= count);
    for (i, &v) in x.data.iter().enumerate() {
        let d = v - mean[plane(i)];
        var[plane(i)] += d * d;
    }
    var.iter_mut().for_each(|v| *v /= count);
    let [scale, bias, run_mean, run_var] = [&p[0], &p[1], &p[2], &p[3]];
    let a: Vec<f64> = (0..c)
        .map(|k| scale.data[k] / (var[k] + eps).sqrt())
        .collect();
    let y = x
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let k = plane(i);
            (v - mean[k]) * a[k] + bias.data[k]
        })
        .collect();
    let blend = |run: &[f64], batch: &[f64]| -> Vec<f64> {
        run.iter()
            .zip(batch)
            .map(|(r, b)| r * momentum + b * (1.0 - momentum))
            .collect()
    };
    let mut out = vec![
        upload(x.dtype, x.shape.clone(), y)?,
        upload(run_mean.dtype, vec![c], blend(&run_mean.data, &mean))?,
        upload(run_var.dtype, vec![c], blend(&run_var.data, &var))?,
    ];
    if saved {
        out.push(upload(run_mean.dtype, vec![c], mean)?);
        out.push(upload(run_var.dtype, vec![c], var)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_model::TensorData;

    fn f32s(shape: Vec<usize>, v: Vec<f32>) -> Value {
        Value::from_data(&TensorData::from_f32(shape, v)).unwrap()
    }

    #[test]
    fn batch_statistics_and_running_update() {
        let x = f32s(vec![2, 1, 2], vec![1.0, 2.0, 3.0, 6.0]);
        let ones = f32s(vec![1], vec![1.0]);
        let zeros = f32s(vec![1], vec![0.0]);
        let out = batch_norm_training(&x, [&ones, &zeros, &zeros, &ones], 0.0, 0.5, true).unwrap();
        let got: Vec<Vec<f64>> = out.iter().map(|v| v.to_f64_vec().unwrap()).collect();
        assert_eq!(got[3], vec![3.0]);
        assert!((got[4][0] - 3.5).abs() < 1e-6);
        assert!((got[1][0] - 1.5).abs() < 1e-6);
        assert!((got[2][0] - 2.25).abs() < 1e-6);
        let y_sum: f64 = got[0].iter().sum();
        assert!(y_sum.abs() < 1e-5);
    }

    #[test]
    fn wrong_parameter_shapes_are_errors() {
        let x = f32s(vec![2, 2], vec![1.0; 4]);
        let one = f32s(vec![1], vec![1.0]);
        let two = f32s(vec![2], vec![1.0; 2]);
        let err = batch_norm_training(&x, [&two, &two, &one, &two], 1e-5, 0.9, false);
        assert!(err.unwrap_err().contains("input_mean"));
        let flat = f32s(vec![4], vec![1.0; 4]);
        assert!(batch_norm_training(&flat, [&two, &two, &two, &two], 1e-5, 0.9, false).is_err());
    }
}
