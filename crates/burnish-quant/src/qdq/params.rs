//! Quantization parameters of the activation tensors, from calibration.

use std::collections::HashMap;

use burnish_model::{DType, Model};

use super::{ActParams, ActTensor};
use crate::QuantError;
use crate::calibrate::{self, Calibration};
use crate::config::{QuantConfig, RangeMethod};
use crate::range;
use crate::record::TensorDecision;

/// Calibrates `acts` on `cal`: parameters by tensor name and a decision per tensor. Tensors
/// that are not float32 (shape arithmetic, indices) are removed from `acts`, with the tensors
/// that take their parameters from them.
pub fn calibrate(
    m: &Model,
    cfg: &QuantConfig,
    cal: &Calibration,
    acts: &mut Vec<ActTensor>,
) -> Result<(HashMap<String, ActParams>, Vec<TensorDecision>), QuantError> {
    let root = |t: &str, acts: &[ActTensor]| -> String {
        let mut cur = t.to_string();
        for _ in 0..acts.len() {
            match acts
                .iter()
                .find(|a| a.tensor == cur)
                .and_then(|a| a.same_as.clone())
            {
                Some(up) => cur = up,
                None => break,
            }
        }
        cur
    };
    let names: Vec<String> = acts
        .iter()
        .filter(|a| a.same_as.is_none())
        .map(|a| a.tensor.clone())
        .collect();
    let hist = cfg.method != RangeMethod::MinMax;
    let stats = calibrate::observe(m, cal, &names, cfg.calibration_batch, hist)?;
    let roots: Vec<String> = acts.iter().map(|a| root(&a.tensor, acts)).collect();
    let keep: Vec<bool> = roots
        .iter()
        .map(|r| stats.get(r).is_some_and(|s| s.dtype == Some(DType::F32)))
        .collect();
    let mut k = keep.iter();
    acts.retain(|_| *k.next().expect("one flag per tensor"));
    let roots: Vec<String> = roots
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect();
    let mut params = HashMap::new();
    let mut decisions = Vec::new();
    for (a, r) in acts.iter().zip(&roots) {
        let s = &stats[r];
        let (lo, hi) = range::choose_range(s, cfg.method);
        let (scale, zero_point) = range::activation_params(lo, hi, cfg.activation_type);
        params.insert(a.tensor.clone(), ActParams { scale, zero_point });
        decisions.push(TensorDecision {
            tensor: a.tensor.clone(),
            observed: [s.min, s.max],
            range: [lo, hi],
            scale,
            zero_point,
            absorbed: a.absorbed.map(|i| m.graph.nodes[i].name.clone()),
        });
    }
    Ok((params, decisions))
}
