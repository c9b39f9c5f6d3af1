//! Step 4: constant `DequantizeLinear` folded into float32 initializers.

use std::sync::Arc;

use burnish_model::query::{constant, is_op};
use burnish_model::{AttrExt, Graph, Node, TensorData};

/// Folds every `DequantizeLinear` whose inputs are all constants.
pub(super) fn fold_constant_dq(g: &mut Graph) -> Result<usize, (String, String)> {
    fold_dq_where(g, |_| true)
}

/// Folds the constant `DequantizeLinear`s of one element (onnxruntime's layout quantizes the
/// `3` and `6` of a HardSwish written as `Add/Clip/Mul`), so that the chains reading them
/// become tables of one input.
pub(super) fn fold_scalar_dq(g: &mut Graph) -> Result<usize, (String, String)> {
    fold_dq_where(g, |x| x.len() == 1)
}

fn fold_dq_where(
    g: &mut Graph,
    keep: impl Fn(&TensorData) -> bool,
) -> Result<usize, (String, String)> {
    let mut folded = 0;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let all_const = n
            .inputs
            .iter()
            .filter(|s| !s.is_empty())
            .all(|s| constant(g, s).is_some());
        if !is_op(n, "DequantizeLinear")
            || !all_const
            || !n
                .input(0)
                .and_then(|x| constant(g, x))
                .is_some_and(|x| keep(x))
        {
            i += 1;
            continue;
        }
        let n = n.clone();
        let value = dequantize_node(g, &n)?;
        g.initializers.insert(n.outputs[0].clone(), Arc::new(value));
        g.nodes.remove(i);
        folded += 1;
    }
    Ok(folded)
}

/// Evaluates a `DequantizeLinear` of constants (per tensor, per axis or blocked).
pub(super) fn dequantize_node(g: &Graph, n: &Node) -> Result<TensorData, (String, String)> {
    let err = |m: &str| (n.name.clone(), m.to_string());
    let get = |k: usize| n.input(k).and_then(|s| constant(g, s));
    let x = get(0).ok_or_else(|| err("input is not constant"))?;
    let s = get(1)
        .and_then(|t| t.to_f64_vec())
        .ok_or_else(|| err("scale is not constant"))?;
    let s_shape = get(1).map(|t| t.shape.clone()).unwrap_or_default();
    let z = get(2).and_then(|t| t.to_f64_vec());
    let xv = x.to_f64_vec().ok_or_else(|| err("input is not numeric"))?;
    let rank = x.shape.len() as i64;
    let axis = n.attrs.int_or("axis", 1).unwrap_or(1);
    let axis = if axis < 0 { axis + rank } else { axis }.max(0) as usize;
    let block = n.attrs.int_or("block_size", 0).unwrap_or(0).max(0) as usize;
    let mut out = vec![0f32; xv.len()];
    let strides: Vec<usize> = (0..x.shape.len())
        .map(|d| x.shape[d + 1..].iter().product())
        .collect();
    for (idx, (o, &q)) in out.iter_mut().zip(&xv).enumerate() {
        let p = if s.len() == 1 {
            0
        } else if let Some(block) = std::num::NonZeroUsize::new(block) {
            let mut p = 0;
            let mut stride = 1;
            for d in (0..x.shape.len()).rev() {
                let c = (idx / strides[d]) % x.shape[d];
                let c = if d == axis { c / block.get() } else { c };
                p += c * stride;
                stride *= s_shape.get(d).copied().unwrap_or(1);
            }
            p
        } else {
            (idx / strides.get(axis).copied().unwrap_or(1)) % s.len()
        };
        let zp = z.as_ref().map(|z| z[p.min(z.len() - 1)]).unwrap_or(0.0);
        *o = ((q - zp) as f32) * s[p] as f32;
    }
    Ok(TensorData::from_f32(x.shape.clone(), out))
}
