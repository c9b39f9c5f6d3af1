//! The constants of a QDQ graph: float inputs of `QLinear*`-style ops quantized per tensor, and
//! the weights (and int32 biases) of the quantized MAC nodes, each behind its
//! `DequantizeLinear`.

use std::collections::HashMap;

use burnish_model::{Buffer, Model, Node, TensorData};
use burnish_optimizer::rewrite::constant;

use super::{transpose, zp_tensor};
use crate::config::{ActivationType, QuantConfig, QuantMode};
use crate::select::Candidate;
use crate::util::{Namer, add_const, int_attr, node};
use crate::{QuantError, range, weights};

/// Adds constant `name` (a float input of `n`) quantized per tensor with the activation type
/// over its own range, and its `DequantizeLinear` (pushed on `nodes`); returns the DQ output.
pub(super) fn quantize_constant(
    model: &mut Model,
    cfg: &QuantConfig,
    name: &str,
    n: &Node,
    namer: &mut Namer,
    nodes: &mut Vec<Node>,
) -> Result<String, QuantError> {
    let g = &mut model.graph;
    let t = constant(g, name)
        .ok_or_else(|| QuantError::node(n, format!("`{name}` is not a constant")))?
        .clone();
    let v = t
        .as_f32()
        .ok_or_else(|| QuantError::node(n, format!("`{name}` is not float32")))?;
    let lo = v.iter().copied().fold(0f32, f32::min);
    let hi = v.iter().copied().fold(0f32, f32::max);
    let (scale, zp) = range::activation_params(lo, hi, cfg.activation_type);
    let (qmin, qmax) = cfg.activation_type.range();
    let code = |x: f32| ((x / scale).round_ties_even() as i32 + zp).clamp(qmin, qmax);
    let data = match cfg.activation_type {
        ActivationType::U8 => Buffer::U8(v.iter().map(|&x| code(x) as u8).collect()),
        ActivationType::S8 => Buffer::I8(v.iter().map(|&x| code(x) as i8).collect()),
    };
    let q = add_const(
        g,
        namer,
        &format!("{name}_quantized"),
        TensorData::new(t.shape.clone(), data)?,
    );
    let s = add_const(
        g,
        namer,
        &format!("{name}_scale"),
        TensorData::from_f32(vec![], vec![scale]),
    );
    let z = add_const(
        g,
        namer,
        &format!("{name}_zero_point"),
        zp_tensor(cfg.activation_type, zp),
    );
    let out = namer.fresh(&format!("{name}_dequantized"));
    nodes.push(node(
        namer.fresh(&format!("{name}_DequantizeLinear")),
        "DequantizeLinear",
        vec![q, s, z],
        vec![out.clone()],
    ));
    Ok(out)
}

/// A weight's quantized initializers (codes, scales, zero points) and its scales, by weight
/// name, channel axis and largest code: a weight read by several nodes (the cells of an
/// unrolled LSTM) is stored once, each node with its own `DequantizeLinear`.
pub(super) type SharedWeights =
    HashMap<(String, Option<usize>, u8), (String, String, String, Vec<f32>)>;

/// Adds the quantized weight (and bias) of candidate `c` with their `DequantizeLinear` nodes;
/// returns the names of the dequantized weight and bias.
#[allow(clippy::too_many_arguments)]
pub(super) fn quantize_weight(
    model: &mut Model,
    cfg: &QuantConfig,
    c: &Candidate,
    n: &Node,
    x_scale: Option<f32>,
    namer: &mut Namer,
    shared: &mut SharedWeights,
    nodes: &mut Vec<Node>,
) -> Result<(String, Option<String>), QuantError> {
    let g = &mut model.graph;
    let w = constant(g, &c.weight)
        .ok_or_else(|| QuantError::node(n, "weight is not a constant"))?
        .clone();
    let wv = w
        .as_f32()
        .ok_or_else(|| QuantError::node(n, "weight is not float32"))?;
    let base = format!("{}_{}", n.name, c.weight);
    let dq_out = namer.fresh(&format!("{}_dequantized", c.weight));
    let dq_name = namer.fresh(&format!("{base}_DequantizeLinear"));
    if cfg.mode == QuantMode::Int4Weights {
        let (k_axis, shape) = (c.k_axis, &w.shape);
        let (rows, cols) = if k_axis == 0 {
            (shape[0], shape[1])
        } else {
            (shape[1], shape[0])
        };
        let kn: Vec<f32> = if k_axis == 0 {
            wv.to_vec()
        } else {
            transpose(wv, shape[0], shape[1])
        };
        let b = cfg.block_size;
        let (codes, scales) = weights::quantize_blocks_int4(&kn, rows, cols, b);
        let nb = rows.div_ceil(b);
        let (codes, scales, sshape) = if k_axis == 0 {
            (codes, scales, vec![nb, cols])
        } else {
            (
                transpose(&codes, rows, cols),
                transpose(&scales, nb, cols),
                vec![cols, nb],
            )
        };
        let q = add_const(
            g,
            namer,
            &format!("{}_int4", c.weight),
            TensorData::new(shape.clone(), Buffer::I8(codes))?,
        );
        let s = add_const(
            g,
            namer,
            &format!("{}_scale", c.weight),
            TensorData::from_f32(sshape, scales),
        );
        let mut d = node(
            dq_name,
            "DequantizeLinear",
            vec![q, s],
            vec![dq_out.clone()],
        );
        int_attr(&mut d, "axis", k_axis as i64);
        int_attr(&mut d, "block_size", b as i64);
        nodes.push(d);
        return Ok((dq_out, None));
    }
    let axis = cfg.per_channel.then_some(c.channel_axis);
    let max_code = if cfg.mode.is_int8() {
        cfg.weight_bits.max_code(&n.op_type)
    } else {
        127
    };
    let key = (c.weight.clone(), axis, max_code);
    let (q, s, z, scales) = match shared.get(&key) {
        Some(done) => done.clone(),
        None => {
            let (codes, scales) = weights::quantize_symmetric(wv, &w.shape, axis, max_code);
            let sshape = if axis.is_some() {
                vec![scales.len()]
            } else {
                vec![]
            };
            let q = add_const(
                g,
                namer,
                &format!("{}_quantized", c.weight),
                TensorData::new(w.shape.clone(), Buffer::I8(codes))?,
            );
            let s = add_const(
                g,
                namer,
                &format!("{}_scale", c.weight),
                TensorData::from_f32(sshape.clone(), scales.clone()),
            );
            let z = add_const(
                g,
                namer,
                &format!("{}_zero_point", c.weight),
                TensorData::new(sshape, Buffer::I8(vec![0; scales.len()]))?,
            );
            let done = (q, s, z, scales);
            shared.insert(key, done.clone());
            done
        }
    };
    let mut d = node(
        dq_name,
        "DequantizeLinear",
        vec![q, s, z],
        vec![dq_out.clone()],
    );
    if let Some(a) = axis {
        int_attr(&mut d, "axis", a as i64);
    }
    nodes.push(d);
    let (Some(bname), Some(xs)) = (&c.bias, x_scale) else {
        return Ok((dq_out, None));
    };
    let bias = constant(g, bname).and_then(|t| t.as_f32().map(<[f32]>::to_vec));
    let Some(bias) = bias else {
        return Ok((dq_out, None));
    };
    let (bcodes, bscales) = weights::quantize_bias(&bias, xs, &scales);
    let len = bias.len();
    // Per-tensor weights give one bias scale: written per tensor, valid below opset 13 too.
    let (bshape, bscales) = match axis {
        Some(_) => (vec![len], bscales),
        None => (vec![], vec![bscales[0]]),
    };
    let bq = add_const(
        g,
        namer,
        &format!("{bname}_quantized"),
        TensorData::new(vec![len], Buffer::I32(bcodes))?,
    );
    let bs = add_const(
        g,
        namer,
        &format!("{bname}_scale"),
        TensorData::from_f32(bshape.clone(), bscales),
    );
    let nz = bshape.iter().product();
    let bz = add_const(
        g,
        namer,
        &format!("{bname}_zero_point"),
        TensorData::new(bshape, Buffer::I32(vec![0; nz]))?,
    );
    let b_out = namer.fresh(&format!("{bname}_dequantized"));
    let mut d = node(
        namer.fresh(&format!("{}_{bname}_DequantizeLinear", n.name)),
        "DequantizeLinear",
        vec![bq, bs, bz],
        vec![b_out.clone()],
    );
    if axis.is_some() {
        int_attr(&mut d, "axis", 0);
    }
    nodes.push(d);
    Ok((dq_out, Some(b_out)))
}
