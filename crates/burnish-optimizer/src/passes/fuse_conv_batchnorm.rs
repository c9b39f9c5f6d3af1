//! `fuse_conv_batchnorm`: folds an inference-mode BatchNormalization into the Conv before it.
//!
//! ```text
//!   x ──> Conv(W, b) ──> BatchNormalization(γ, β, μ, σ²) ──> y
//!   =>  x ──> Conv(W·s, (b - μ)·s + β) ──> y        with s = γ / sqrt(σ² + ε) per channel
//! ```
//!
//! Refuses: Conv output read by anything else or a graph output; non-constant or non-f32
//! weights or statistics; statistics not of length `C_out`; training mode (attribute or extra
//! outputs in use). Exact up to float rounding (computed in f64, stored in f32).

use std::sync::Arc;

use burnish_model::{AttrExt, Model, TensorData};

use crate::rewrite::{absorb, is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FuseConvBatchnorm;

impl Pass for FuseConvBatchnorm {
    fn name(&self) -> &'static str {
        "fuse_conv_batchnorm"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |g, j| {
            let bn = g.node(j);
            if !is_op(bn, "BatchNormalization")
                || bn.attrs.int_or("training_mode", 0).unwrap_or(1) != 0
                || bn.outputs.iter().skip(1).any(|o| !o.is_empty())
            {
                return Ok(false);
            }
            let Some(c) = bn.input(0) else {
                return Ok(false);
            };
            let Some(i) = g.producer(c) else {
                return Ok(false);
            };
            let conv = g.node(i);
            if !is_op(conv, "Conv") || !g.single_use(c) {
                return Ok(false);
            }
            let f32s = |k: usize, node: &burnish_model::Node| {
                node.input(k)
                    .and_then(|n| g.constant(n))
                    .and_then(|t| t.as_f32().map(|v| (t.shape.clone(), v.to_vec())))
            };
            let Some((wshape, w)) = f32s(1, conv) else {
                return Ok(false);
            };
            let cout = wshape.first().copied().unwrap_or(0);
            let bias = match conv.input(2) {
                None => vec![0.0; cout],
                Some(_) => match f32s(2, conv) {
                    Some((_, b)) => b,
                    None => return Ok(false),
                },
            };
            let stats: Option<Vec<Vec<f32>>> =
                (1..5).map(|k| f32s(k, bn).map(|(_, v)| v)).collect();
            let Some(stats) = stats else { return Ok(false) };
            if cout == 0 || bias.len() != cout || stats.iter().any(|s| s.len() != cout) {
                return Ok(false);
            }
            let eps = bn.attrs.float_or("epsilon", 1e-5).unwrap_or(1e-5) as f64;
            let (gamma, beta, mean, var) = (&stats[0], &stats[1], &stats[2], &stats[3]);
            let scale: Vec<f64> = (0..cout)
                .map(|o| gamma[o] as f64 / (var[o] as f64 + eps).sqrt())
                .collect();
            let per = w.len() / cout;
            let w2: Vec<f32> = w
                .iter()
                .enumerate()
                .map(|(k, &v)| (v as f64 * scale[k / per]) as f32)
                .collect();
            let b2: Vec<f32> = (0..cout)
                .map(|o| ((bias[o] as f64 - mean[o] as f64) * scale[o] + beta[o] as f64) as f32)
                .collect();
            let wname = g.fresh_name(&format!("{}_bn_weight", conv.name));
            let bname = g.fresh_name(&format!("{}_bn_bias", conv.name));
            g.set_initializer(wname.clone(), Arc::new(TensorData::from_f32(wshape, w2)));
            g.set_initializer(
                bname.clone(),
                Arc::new(TensorData::from_f32(vec![cout], b2)),
            );
            g.edit(i, |conv| {
                conv.inputs.resize(3, String::new());
                conv.inputs[1] = wname;
                conv.inputs[2] = bname;
            });
            absorb(g, i, j);
            Ok(true)
        })
    }
}
