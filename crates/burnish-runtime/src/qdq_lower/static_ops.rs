//! Step 2: static int8 patterns to `burnish::QConv` / `burnish::QMatMul` (or a float-output
//! `com.microsoft::QGemm`).

use burnish_model::domain;
use burnish_model::query::{Namer, add_const, constant, is_op, single_use};
use burnish_model::{AttrExt, Attribute, Buffer, DType, Graph, Node, TensorData};

use super::fold::dequantize_node;
use super::{NOT_QDQ, float_attr, producer, readers, scale_zp};
/// Step 2 at node `i`; `Ok(true)` for a QConv, `Ok(false)` for a QMatMul.
pub(super) fn static_pattern(g: &mut Graph, i: usize, namer: &mut Namer) -> Result<bool, String> {
    let n = g.nodes[i].clone();
    let conv = is_op(&n, "Conv");
    let dx = producer(g, &n.inputs[0], "DequantizeLinear")
        .ok_or(NOT_QDQ)?
        .clone();
    let dw = producer(g, n.input(1).ok_or(NOT_QDQ)?, "DequantizeLinear")
        .ok_or(NOT_QDQ)?
        .clone();
    if constant(g, dx.input(1).unwrap_or("")).is_none_or(|s| s.len() != 1) {
        return Err("activation scale is not a constant scalar".into());
    }
    let w = constant(g, &dw.inputs[0])
        .ok_or("quantized weight is not a constant")?
        .clone();
    if !matches!(w.dtype(), DType::I8 | DType::U8) || dw.attrs.contains_key("block_size") {
        return Err(format!(
            "weight is {} (or blocked); int8 ops take 8-bit weights",
            w.dtype()
        ));
    }
    let trans_b = n.attrs.int_or("transB", 0).unwrap_or(0) != 0;
    if is_op(&n, "Gemm")
        && (n.attrs.int_or("transA", 0).unwrap_or(1) != 0
            || float_attr(&n, "alpha") != 1.0
            || float_attr(&n, "beta") != 1.0)
    {
        return Err("Gemm with transA, alpha != 1 or beta != 1".into());
    }
    if !conv && w.shape.len() != 2 {
        return Err("MatMul weight is not 2-D".into());
    }
    let channel_axis = if conv || trans_b { 0 } else { 1 };
    let channels = w.shape[channel_axis];
    let ws = constant(g, dw.input(1).unwrap_or("")).ok_or("weight scale is not constant")?;
    if ws.len() != 1 {
        let rank = w.shape.len() as i64;
        let axis = dw.attrs.int_or("axis", 1).unwrap_or(1);
        let axis = if axis < 0 { axis + rank } else { axis } as usize;
        if axis != channel_axis || ws.len() != channels {
            return Err("weight scales are not per output channel".into());
        }
    }
    let ws = ws.to_f64_vec().unwrap_or_default();
    let tail = quantized_tail(g, &n.outputs[0]);
    let gemm_float_out = is_op(&n, "Gemm") && tail.is_err();
    let (act, mut removed, q) = match tail {
        Ok(t) => t,
        Err(_) if gemm_float_out => (None, Vec::new(), None),
        Err(e) => return Err(e),
    };
    removed.push(i);
    let (ys, yz) = match &q {
        Some(q) => scale_zp(g, q, namer).ok_or("output scale/zero point not constant")?,
        None => (String::new(), String::new()),
    };
    let (xs, xz) = scale_zp(g, &dx, namer).ok_or("input scale/zero point not constant")?;
    let wz = match dw.input(2) {
        Some(z) => z.to_string(),
        None => add_const(
            g,
            namer,
            &format!("{}_zero_point", dw.inputs[0]),
            TensorData {
                shape: vec![],
                data: Buffer::I8(vec![0]),
            },
        ),
    };
    let mut inputs = vec![
        dx.inputs[0].clone(),
        xs.clone(),
        xz,
        dw.inputs[0].clone(),
        dw.inputs[1].clone(),
        wz,
    ];
    let bias = match n.input(2) {
        Some(b) => Some(bias_input(g, b, &xs, &ws, channels, namer)?),
        None => None,
    };
    let mut out = match &q {
        Some(q) => {
            inputs.extend([ys, yz]);
            inputs.extend(bias);
            Node {
                name: n.name.clone(),
                op_type: if conv { domain::QCONV } else { domain::QMATMUL }.into(),
                domain: domain::DOMAIN.into(),
                inputs,
                outputs: vec![q.outputs[0].clone()],
                attrs: Default::default(),
            }
        }
        None => {
            if let Some(b) = bias {
                if constant(g, &b).is_none_or(|t| t.dtype() != DType::I32) {
                    return Err("float output (no Q after) with a float bias".into());
                }
                inputs.push(b);
            }
            Node {
                name: n.name.clone(),
                op_type: "QGemm".into(),
                domain: "com.microsoft".into(),
                inputs,
                outputs: n.outputs.clone(),
                attrs: Default::default(),
            }
        }
    };
    if conv {
        for k in [
            "auto_pad",
            "pads",
            "strides",
            "dilations",
            "group",
            "kernel_shape",
        ] {
            if let Some(v) = n.attrs.get(k) {
                out.attrs.insert(k.into(), v.clone());
            }
        }
    } else if trans_b {
        out.attrs.insert("transB".into(), Attribute::Int(1));
    }
    if out.op_type == "QGemm" {
        g.nodes.remove(i);
        g.nodes.insert(i, out);
        return Ok(false);
    }
    if let Some((a, lo, hi)) = act {
        out.attrs
            .insert(domain::ACTIVATION.into(), Attribute::String(a));
        if let Some(v) = lo {
            out.attrs
                .insert("activation_min".into(), Attribute::Float(v));
        }
        if let Some(v) = hi {
            out.attrs
                .insert("activation_max".into(), Attribute::Float(v));
        }
    }
    removed.sort_unstable();
    for r in removed.iter().rev() {
        g.nodes.remove(*r);
    }
    g.nodes.insert(i, out);
    Ok(conv)
}

/// The chain after a quantizable op's output `y`: an optional Relu/Clip (with its bounds) and
/// the QuantizeLinear, each the only reader of the value before; plus the nodes to remove.
#[allow(clippy::type_complexity)]
pub(super) fn quantized_tail(
    g: &Graph,
    y: &str,
) -> Result<
    (
        Option<(String, Option<f32>, Option<f32>)>,
        Vec<usize>,
        Option<Node>,
    ),
    String,
> {
    let mut y = y.to_string();
    let mut act = None;
    let mut removed = Vec::new();
    if !single_use(g, &y) {
        return Err("output has several readers (or is a graph output)".into());
    }
    let mut next = readers(g, &y)[0];
    let cand = &g.nodes[next];
    if is_op(cand, "Relu") || is_op(cand, "Clip") {
        let bound = |k: usize, attr: &str| -> Result<Option<f32>, String> {
            match cand.input(k) {
                Some(v) => constant(g, v)
                    .and_then(|t| t.to_f64_vec())
                    .and_then(|v| v.first().map(|&x| Some(x as f32)))
                    .ok_or_else(|| "Clip bound is not a constant".to_string()),
                None => Ok(cand.attrs.float_opt(attr).ok().flatten()),
            }
        };
        act = Some(if is_op(cand, "Relu") {
            ("Relu".to_string(), None, None)
        } else {
            ("Clip".to_string(), bound(1, "min")?, bound(2, "max")?)
        });
        y = cand.outputs[0].clone();
        removed.push(next);
        if !single_use(g, &y) {
            return Err("activation output has several readers".into());
        }
        next = readers(g, &y)[0];
    }
    let q = g.nodes[next].clone();
    if !is_op(&q, "QuantizeLinear") {
        return Err("no QuantizeLinear after the op (float output)".into());
    }
    removed.push(next);
    Ok((act, removed, Some(q)))
}

/// The bias input of a QConv/QMatMul: the i32 codes of a `DQ(b_i32)` whose scale is
/// `x_scale * w_scale`, else a float32 constant (dequantized if need be).
fn bias_input(
    g: &mut Graph,
    b: &str,
    xs: &str,
    ws: &[f64],
    channels: usize,
    namer: &mut Namer,
) -> Result<String, String> {
    let xs = constant(g, xs)
        .and_then(|t| t.to_f64_vec())
        .and_then(|v| v.first().copied())
        .ok_or("input scale is not constant")?;
    if let Some(d) = producer(g, b, "DequantizeLinear").cloned() {
        let codes = constant(g, &d.inputs[0]).ok_or("bias is not constant")?;
        let scales = d
            .input(1)
            .and_then(|s| constant(g, s))
            .and_then(|t| t.to_f64_vec())
            .ok_or("bias scale is not constant")?;
        let zero = d
            .input(2)
            .and_then(|z| constant(g, z))
            .and_then(|t| t.to_i64_vec())
            .is_none_or(|v| v.iter().all(|&z| z == 0));
        let matches = codes.dtype() == DType::I32
            && codes.len() == channels
            && zero
            && (0..channels).all(|c| {
                let want = xs * ws[if ws.len() == 1 { 0 } else { c }];
                let got = scales[if scales.len() == 1 { 0 } else { c }];
                ((got - want) / want).abs() < 1e-5
            });
        if matches {
            return Ok(d.inputs[0].clone());
        }
        let v = dequantize_node(g, &d).map_err(|(_, m)| m)?;
        let v = v.as_f32().map(<[f32]>::to_vec).unwrap_or_default();
        if v.len() != channels {
            return Err(format!(
                "the bias holds {} values for {channels} output channels",
                v.len()
            ));
        }
        return Ok(add_const(
            g,
            namer,
            &format!("{b}_float"),
            TensorData::from_f32(vec![channels], v),
        ));
    }
    let t = constant(g, b).ok_or("bias is not a constant")?;
    if t.dtype() != DType::F32 || t.len() != channels {
        return Err(format!(
            "bias of shape {:?} is not one float per channel",
            t.shape
        ));
    }
    if t.shape == [channels] {
        return Ok(b.to_string());
    }
    let v = t.as_f32().map(<[f32]>::to_vec).unwrap_or_default();
    Ok(add_const(
        g,
        namer,
        &format!("{b}_flat"),
        TensorData::from_f32(vec![channels], v),
    ))
}
