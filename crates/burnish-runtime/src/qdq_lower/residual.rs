//! Step 2b: a residual `Add` folded into the `QConv` that feeds it.
//!
//! ```text
//!   QConv(x, ..) -> c -> DQ(c) ─┐
//!              z -> DQ(z, zs, zz) ─┴─> Add [-> Relu | Clip] -> Q(ys, yz) -> y
//!   =>  QConv(x, .., ys, yz, bias, z, zs, zz) [activation] -> y
//! ```
//!
//! The fused op computes `activation(conv + bias + DQ(z))` and quantizes it once (see the
//! `QConv` contract in `burnish-runtime`'s `ops/quant`), so the conv output is no longer
//! rounded to its own u8 grid before the add: one rounding fewer than the QDQ graph (and than
//! onnxruntime's `QLinearConv -> QLinearAdd`), so results can differ from those by one code.
//! Refused when the `QConv` already has an activation (it would apply before the add), its
//! output or the dequantized value has other readers, or the scales and zero points are not
//! constant scalars.

use burnish_model::domain;
use burnish_model::query::{Namer, add_const, constant, is_op, single_use};
use burnish_model::{Attribute, Buffer, Graph, Node, TensorData};

use super::static_ops::quantized_tail;
use super::{producer, scale_zp};
/// Folds every residual `Add` it can into the `QConv` before it; returns how many.
pub(super) fn fuse_residuals(g: &mut Graph, namer: &mut Namer) -> usize {
    let mut fused = 0;
    // Each fusion removes nodes before the rewritten one: rescan from the start.
    while (0..g.nodes.len()).any(|i| is_op(&g.nodes[i], "Add") && fuse_at(g, i, namer).is_some()) {
        fused += 1;
    }
    fused
}

/// The `QConv` whose dequantized output is Add input `k`, with the DQ node, if it may fuse.
fn conv_operand(g: &Graph, add: &Node, k: usize) -> Option<(usize, usize)> {
    let dq_out = add.input(k)?;
    let dq = producer(g, dq_out, "DequantizeLinear")?;
    let c = &dq.inputs[0];
    let conv = g
        .nodes
        .iter()
        .position(|n| domain::is_op(n, domain::QCONV) && n.outputs[0] == *c)?;
    let qconv = &g.nodes[conv];
    let fusable = !qconv.attrs.contains_key(domain::ACTIVATION)
        && qconv.inputs.len() <= domain::QCONV_RESIDUAL
        && single_use(g, c)
        && single_use(g, dq_out)
        && scalar_const(g, dq.input(1));
    let dq_idx = g.nodes.iter().position(|n| n.outputs[0] == *dq_out)?;
    fusable.then_some((conv, dq_idx))
}

fn scalar_const(g: &Graph, name: Option<&str>) -> bool {
    name.and_then(|n| constant(g, n))
        .is_some_and(|t| t.len() == 1)
}

fn fuse_at(g: &mut Graph, i: usize, namer: &mut Namer) -> Option<()> {
    let add = g.nodes[i].clone();
    if add.inputs.len() != 2 {
        return None;
    }
    let (k, (conv, dq_c)) = (0..2).find_map(|k| conv_operand(g, &add, k).map(|c| (k, c)))?;
    let dz = producer(g, &add.inputs[1 - k], "DequantizeLinear")?.clone();
    let (zs, zz) = (dz.input(1)?, dz.input(2)?);
    if !scalar_const(g, Some(zs)) || !scalar_const(g, Some(zz)) {
        return None;
    }
    let (act, removed, q) = quantized_tail(g, &add.outputs[0]).ok()?;
    let q = q?;
    let (ys, yz) = scale_zp(g, &q, namer)?;
    let mut node = g.nodes[conv].clone();
    node.inputs[6] = ys;
    node.inputs[7] = yz;
    if node.inputs.len() < 9 {
        let channels = *constant(g, &node.inputs[3])?.shape.first()?;
        let zero = TensorData::new(vec![channels], Buffer::I32(vec![0; channels])).ok()?;
        node.inputs.push(add_const(
            g,
            namer,
            &format!("{}_zero_bias", node.name),
            zero,
        ));
    }
    node.inputs
        .extend([dz.inputs[0].clone(), zs.to_string(), zz.to_string()]);
    node.outputs = vec![q.outputs[0].clone()];
    if let Some((a, lo, hi)) = act {
        node.attrs
            .insert(domain::ACTIVATION.into(), Attribute::String(a));
        for (key, v) in [("activation_min", lo), ("activation_max", hi)] {
            if let Some(v) = v {
                node.attrs.insert(key.into(), Attribute::Float(v));
            }
        }
    }
    g.nodes[i] = node;
    let mut gone: Vec<usize> = removed.into_iter().chain([conv, dq_c]).collect();
    gone.sort_unstable();
    gone.dedup();
    for r in gone.into_iter().rev() {
        g.nodes.remove(r);
    }
    Some(())
}
