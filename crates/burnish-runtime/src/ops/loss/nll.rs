//! `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss`, computed on the host in `f64`.

use burnish_model::AttrExt;

use super::host::{HostFloat, host_float, host_int, upload};
use crate::ops::{BuildCtx, Op, op};

/// How the per-element losses are combined.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reduction {
    None,
    Sum,
    Mean,
}

/// The attributes both losses share.
#[derive(Clone, Copy, Debug)]
struct LossAttrs {
    reduction: Reduction,
    ignore_index: Option<i64>,
}

impl LossAttrs {
    fn parse(ctx: &BuildCtx) -> Result<Self, String> {
        let reduction = match ctx.string("reduction", "mean")?.as_str() {
            "none" => Reduction::None,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            other => {
                return Err(format!("reduction `{other}` is not one of none, sum, mean"));
            }
        };
        let ignore_index = ctx.node.attrs.int_opt("ignore_index").map_err(|e| e.0)?;
        Ok(Self {
            reduction,
            ignore_index,
        })
    }

    /// The loss of log-probabilities `logp` (`[N, C, d1..dk]`) against `target`
    /// (`[N, d1..dk]` class indices) with optional per-class `weight` (`[C]`): its shape and
    /// values.
    fn apply(
        &self,
        logp: &[f64],
        shape: &[usize],
        target: &(Vec<usize>, Vec<i64>),
        weight: Option<&HostFloat>,
    ) -> Result<(Vec<usize>, Vec<f64>), String> {
        let (t_shape, t) = target;
        let (n, c) = match shape {
            [n, c, ..] => (*n, *c),
            _ => return Err(format!("input must have rank >= 2, found shape {shape:?}")),
        };
        let inner = &shape[2..];
        if t_shape.first() != Some(&n) || &t_shape[1..] != inner {
            return Err(format!(
                "target has shape {t_shape:?}, expected {:?}",
                [&[n][..], inner].concat()
            ));
        }
        if let Some(w) = weight
            && w.shape != [c]
        {
            return Err(format!("weight has shape {:?}, expected [{c}]", w.shape));
        }
        let d: usize = inner.iter().product();
        let mut loss = vec![0.0; t.len()];
        let mut weights = vec![0.0; t.len()];
        for (i, &label) in t.iter().enumerate() {
            if Some(label) == self.ignore_index {
                continue;
            }
            let class = usize::try_from(label)
                .ok()
                .filter(|&k| k < c)
                .ok_or_else(|| format!("target value {label} is out of range for {c} classes"))?;
            let w = weight.map_or(1.0, |w| w.data[class]);
            let (batch, pos) = (i / d.max(1), i % d.max(1));
            loss[i] = -logp[(batch * c + class) * d + pos] * w;
            weights[i] = w;
        }
        Ok(match self.reduction {
            Reduction::None => (t_shape.clone(), loss),
            Reduction::Sum => (vec![], vec![loss.iter().sum()]),
            Reduction::Mean => (
                vec![],
                vec![loss.iter().sum::<f64>() / weights.iter().sum::<f64>()],
            ),
        })
    }
}

/// `log_softmax` over axis 1 of a `[N, C, d1..dk]` tensor.
fn log_softmax_axis1(x: &[f64], shape: &[usize]) -> Vec<f64> {
    let (c, d) = (
        shape.get(1).copied().unwrap_or(1),
        shape.iter().skip(2).product::<usize>(),
    );
    let mut out = x.to_vec();
    if c == 0 || d == 0 {
        return out;
    }
    for block in out.chunks_exact_mut(c * d) {
        for pos in 0..d {
            let at = |k: usize| k * d + pos;
            let max = (0..c)
                .map(|k| block[at(k)])
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..c).map(|k| (block[at(k)] - max).exp()).sum();
            let shift = max + sum.ln();
            for k in 0..c {
                block[at(k)] -= shift;
            }
        }
    }
    out
}

/// `NegativeLogLikelihoodLoss(input, target, weight?)` with `reduction` and `ignore_index`.
pub(crate) fn negative_log_likelihood_loss(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let attrs = LossAttrs::parse(ctx)?;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "input")?;
        let target = host_int(&ins.take(1)?, "target")?;
        let weight = ins.opt(2).map(|w| host_float(&w, "weight")).transpose()?;
        let (shape, loss) = attrs.apply(&x.data, &x.shape, &target, weight.as_ref())?;
        Ok(vec![upload(x.dtype, shape, loss)?])
    })
}

/// `SoftmaxCrossEntropyLoss(scores, labels, weights?)`: the negative log-likelihood of
/// `log_softmax(scores, axis=1)`, which is also the optional second output.
pub(crate) fn softmax_cross_entropy_loss(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let attrs = LossAttrs::parse(ctx)?;
    let want_log_prob = ctx.node.outputs.len() > 1;
    op(move |mut ins| {
        let x = host_float(&ins.take(0)?, "scores")?;
        let target = host_int(&ins.take(1)?, "labels")?;
        let weight = ins.opt(2).map(|w| host_float(&w, "weights")).transpose()?;
        let logp = log_softmax_axis1(&x.data, &x.shape);
        let (shape, loss) = attrs.apply(&logp, &x.shape, &target, weight.as_ref())?;
        let mut out = vec![upload(x.dtype, shape, loss)?];
        if want_log_prob {
            out.push(upload(x.dtype, x.shape, logp)?);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(reduction: Reduction, ignore_index: Option<i64>) -> LossAttrs {
        LossAttrs {
            reduction,
            ignore_index,
        }
    }

    #[test]
    fn mean_divides_by_the_weights_of_the_counted_targets() {
        let logp = [-1.0, -2.0, -3.0, -4.0];
        let target = (vec![2], vec![1, 0]);
        let (shape, loss) = attrs(Reduction::Mean, Some(0))
            .apply(&logp, &[2, 2], &target, None)
            .unwrap();
        assert_eq!(shape, Vec::<usize>::new());
        assert_eq!(loss, vec![2.0]);
        let (_, none) = attrs(Reduction::None, None)
            .apply(&logp, &[2, 2], &target, None)
            .unwrap();
        assert_eq!(none, vec![2.0, 3.0]);
    }

    #[test]
    fn bad_targets_and_shapes_are_errors() {
        let logp = [0.0; 4];
        let a = attrs(Reduction::Sum, Some(-1));
        let err = a.apply(&logp, &[2, 2], &(vec![2], vec![0, 2]), None);
        assert!(err.unwrap_err().contains("target value 2"));
        let err = a.apply(&logp, &[2, 2], &(vec![2], vec![0, -7]), None);
        assert!(err.unwrap_err().contains("target value -7"));
        assert!(a.apply(&logp, &[4], &(vec![4], vec![0; 4]), None).is_err());
        assert!(
            a.apply(&logp, &[2, 2], &(vec![1, 2], vec![0, 0]), None)
                .is_err()
        );
        let w = HostFloat {
            dtype: burnish_model::DType::F32,
            shape: vec![3],
            data: vec![1.0; 3],
        };
        let err = a.apply(&logp, &[2, 2], &(vec![2], vec![0, 1]), Some(&w));
        assert!(err.unwrap_err().contains("weight"));
    }

    #[test]
    fn log_softmax_rows_sum_to_one() {
        let x = [1.0, 2.0, 3.0, 0.5, -1.0, 4.0];
        let y = log_softmax_axis1(&x, &[1, 2, 3]);
        for pos in 0..3 {
            let total: f64 = (0..2).map(|k| y[k * 3 + pos].exp()).sum();
            assert!((total - 1.0).abs() < 1e-12);
        }
    }
}
