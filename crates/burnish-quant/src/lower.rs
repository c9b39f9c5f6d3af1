//! Lowering QDQ graphs (ours, or onnxruntime's `quantize_static`/`quantize_dynamic` QDQ output)
//! to burnish's int8 ops, for execution. Steps, in order:
//!
//! 1. **Move shape ops onto codes.** `DQ(q, s, z) -> Reshape|Flatten|Squeeze|Unsqueeze|Transpose
//!    -> Q(s, z)` becomes the shape op on `q`: exact, these ops only move elements.
//! 2. **Static int8 ops.**
//!    ```text
//!    DQ(xq, xs, xz) ─┐
//!    DQ(w_i8, ws, wz) ─┼─> Conv | MatMul | Gemm [-> Relu | Clip] -> Q(ys, yz)
//!    DQ(b_i32) or b ─┘         =>  burnish::QConv | burnish::QMatMul (activation folded)
//!    ```
//!    A `Gemm` whose output is not quantized (the logits layer) becomes
//!    `com.microsoft::QGemm` with a float32 output (int32 bias). Refused (left for step 4) when: the weight is not a constant int8/uint8 `DQ` input with
//!    per-tensor or per-output-channel scales, scales or zero points are not constants, `Gemm`
//!    has `transA`, `alpha != 1` or `beta != 1`, the op's output has other readers than the
//!    activation and Q, or no Q follows a Conv/MatMul (a float output).
//! 3. **Dynamic int8.** `DynamicQuantizeLinear(x) -> DQ -> MatMul | Gemm(DQ(w_i8) [, bias])`
//!    becomes `com.microsoft::DynamicQuantizeMatMul(x, w, ws, wz [, bias])`.
//! 4. **Fold constant DQ.** Every remaining `DequantizeLinear` of constants (weights of ops
//!    left in float, int4 blocks) becomes a float32 initializer: the op then runs in float on
//!    exactly the values the QDQ graph describes, with no per-call dequantization.
//!
//! Exactness: steps 1 and 4 are exact; step 2 is bit-exact with onnxruntime's
//! `QLinearConv`/`QLinearMatMul` for i32 biases (the QDQ graph in float can differ by one code
//! where the float op rounds its result before Q); step 3 matches ORT's
//! `DynamicQuantizeMatMul`.

use std::sync::Arc;

use burnish_model::{AttrExt, Attribute, Buffer, DType, Graph, Model, Node, TensorData};
use burnish_optimizer::rewrite::{constant, single_use};
use serde::Serialize;

use crate::QuantError;
use crate::qdq::transpose;
use crate::util::{Namer, add_const, is, remove_dead};

/// What [`lower_qdq`] rewrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LowerRecord {
    /// Shape ops moved onto quantized codes (step 1).
    pub shape_ops_on_codes: usize,
    /// `QConv` nodes written.
    pub qconv: usize,
    /// `QMatMul` (and float-output `QGemm`) nodes written.
    pub qmatmul: usize,
    /// `DynamicQuantizeMatMul` nodes written.
    pub dynamic_matmul: usize,
    /// Constant `DequantizeLinear` nodes folded to float32 initializers.
    pub folded_dequantize: usize,
    /// Quantized ops left in float, with the reason (`node: reason`).
    pub left_in_float: Vec<String>,
}

/// Rewrites the QDQ patterns of `model` into int8 ops (see the module documentation).
pub fn lower_qdq(model: &mut Model) -> Result<LowerRecord, QuantError> {
    let mut rec = LowerRecord::default();
    let g = &mut model.graph;
    rec.shape_ops_on_codes = move_shape_ops(g);
    let mut namer = Namer::new(g);
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let mac = ["Conv", "MatMul", "Gemm"].iter().any(|op| is(n, op));
        if !mac {
            i += 1;
            continue;
        }
        let name = n.name.clone();
        match dynamic_pattern(g, i, &mut namer) {
            Ok(Some(())) => {
                rec.dynamic_matmul += 1;
                i += 1;
                continue;
            }
            Ok(None) => {}
            Err(reason) => {
                rec.left_in_float.push(format!("{name}: {reason}"));
                i += 1;
                continue;
            }
        }
        match static_pattern(g, i, &mut namer) {
            Ok(conv) => {
                if conv {
                    rec.qconv += 1;
                } else {
                    rec.qmatmul += 1;
                }
            }
            Err(reason) => {
                if reason != NOT_QDQ {
                    rec.left_in_float.push(format!("{name}: {reason}"));
                }
            }
        }
        i += 1;
    }
    remove_dead(g);
    rec.folded_dequantize = fold_constant_dq(g).map_err(|(node, message)| QuantError::Node {
        node,
        op: "DequantizeLinear".into(),
        message,
    })?;
    remove_dead(g);
    if g.nodes.iter().any(|n| n.domain == "burnish") {
        model.opsets.insert("burnish".into(), 1);
    }
    if g.nodes.iter().any(|n| n.domain == "com.microsoft") {
        model.opsets.insert("com.microsoft".into(), 1);
    }
    Ok(rec)
}

const NOT_QDQ: &str = "inputs are not dequantized";

/// The producer of `value` when it is a default-domain `op` node.
fn producer<'g>(g: &'g Graph, value: &str, op: &str) -> Option<&'g Node> {
    g.nodes
        .iter()
        .find(|n| n.outputs.iter().any(|o| o == value))
        .filter(|n| is(n, op))
}

fn readers(g: &Graph, value: &str) -> Vec<usize> {
    g.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.inputs.iter().any(|i| i == value))
        .map(|(i, _)| i)
        .collect()
}

fn same_const(g: &Graph, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a == b || matches!((constant(g, a), constant(g, b)), (Some(x), Some(y)) if x == y)
        }
        _ => false,
    }
}

fn move_shape_ops(g: &mut Graph) -> usize {
    let mut moved = 0;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let shape_op = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"]
            .iter()
            .any(|op| is(n, op));
        let hit = shape_op
            .then(|| {
                let dq = producer(g, &n.inputs[0], "DequantizeLinear")?;
                let y = &n.outputs[0];
                if !single_use(g, y) {
                    return None;
                }
                let qi = *readers(g, y).first()?;
                let q = &g.nodes[qi];
                let per_tensor =
                    |t: Option<&str>| t.and_then(|t| constant(g, t)).is_some_and(|t| t.len() == 1);
                let ok = is(q, "QuantizeLinear")
                    && per_tensor(dq.input(1))
                    && same_const(g, dq.input(1), q.input(1))
                    && same_const(g, dq.input(2), q.input(2))
                    && (dq.input(2).is_some() || q.input(2).is_none());
                ok.then(|| (qi, dq.inputs[0].clone(), q.outputs[0].clone()))
            })
            .flatten();
        if let Some((qi, codes, out)) = hit {
            g.nodes[i].inputs[0] = codes;
            g.nodes[i].outputs[0] = out;
            g.nodes.remove(qi);
            moved += 1;
        }
        i += 1;
    }
    moved
}

/// Constant scale and zero point of a DQ/Q node (a missing zero point becomes a u8 0).
fn scale_zp(g: &mut Graph, q: &Node, namer: &mut Namer) -> Option<(String, String)> {
    let s = q.input(1)?.to_string();
    constant(g, &s)?;
    let z = match q.input(2) {
        Some(z) => {
            constant(g, z)?;
            z.to_string()
        }
        None => add_const(
            g,
            namer,
            &format!("{}_zero_point", q.name),
            TensorData {
                shape: vec![],
                data: Buffer::U8(vec![0]),
            },
        ),
    };
    Some((s, z))
}

fn float_attr(n: &Node, k: &str) -> f32 {
    n.attrs.float_or(k, 1.0).unwrap_or(f32::NAN)
}

/// Step 2 at node `i`; `Ok(true)` for a QConv, `Ok(false)` for a QMatMul.
fn static_pattern(g: &mut Graph, i: usize, namer: &mut Namer) -> Result<bool, String> {
    let n = g.nodes[i].clone();
    let conv = is(&n, "Conv");
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
    if is(&n, "Gemm")
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
    let gemm_float_out = is(&n, "Gemm") && tail.is_err();
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
                op_type: if conv { "QConv" } else { "QMatMul" }.into(),
                domain: "burnish".into(),
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
        out.attrs.insert("activation".into(), Attribute::String(a));
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
fn quantized_tail(
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
    if is(cand, "Relu") || is(cand, "Clip") {
        let bound = |k: usize, attr: &str| -> Result<Option<f32>, String> {
            match cand.input(k) {
                Some(v) => constant(g, v)
                    .and_then(|t| t.to_f64_vec())
                    .and_then(|v| v.first().map(|&x| Some(x as f32)))
                    .ok_or_else(|| "Clip bound is not a constant".to_string()),
                None => Ok(cand.attrs.float_opt(attr).ok().flatten()),
            }
        };
        act = Some(if is(cand, "Relu") {
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
    if !is(&q, "QuantizeLinear") {
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

/// Step 3 at node `i`: `Ok(Some)` rewritten, `Ok(None)` not a dynamic pattern.
fn dynamic_pattern(g: &mut Graph, i: usize, namer: &mut Namer) -> Result<Option<()>, String> {
    let n = g.nodes[i].clone();
    if is(&n, "Conv") {
        return Ok(None);
    }
    let Some(dx) = producer(g, &n.inputs[0], "DequantizeLinear").cloned() else {
        return Ok(None);
    };
    let Some(dyn_q) = producer(g, &dx.inputs[0], "DynamicQuantizeLinear").cloned() else {
        return Ok(None);
    };
    let Some(dw) = n
        .input(1)
        .and_then(|w| producer(g, w, "DequantizeLinear"))
        .cloned()
    else {
        return Err("weight is not dequantized".into());
    };
    let w = constant(g, &dw.inputs[0])
        .ok_or("quantized weight is not a constant")?
        .clone();
    if w.shape.len() != 2 || !matches!(w.dtype(), DType::I8 | DType::U8) {
        return Err("weight is not a 2-D int8 constant".into());
    }
    let gemm = is(&n, "Gemm");
    let trans_b = gemm && n.attrs.int_or("transB", 0).unwrap_or(0) != 0;
    if gemm
        && (n.attrs.int_or("transA", 0).unwrap_or(1) != 0
            || float_attr(&n, "alpha") != 1.0
            || float_attr(&n, "beta") != 1.0)
    {
        return Err("Gemm with transA, alpha != 1 or beta != 1".into());
    }
    let (k, cols) = if trans_b {
        (w.shape[1], w.shape[0])
    } else {
        (w.shape[0], w.shape[1])
    };
    let ws = constant(g, dw.input(1).unwrap_or("")).ok_or("weight scale is not constant")?;
    let channel_axis = if trans_b { 0 } else { 1 };
    if ws.len() != 1 {
        let axis = dw.attrs.int_or("axis", 1).unwrap_or(1);
        let axis = if axis < 0 { axis + 2 } else { axis } as usize;
        if axis != channel_axis || ws.len() != cols {
            return Err("weight scales are not per output column".into());
        }
    }
    let (wq, wz) = if trans_b {
        let codes = match &w.data {
            Buffer::I8(v) => Buffer::I8(transpose(v, cols, k)),
            Buffer::U8(v) => Buffer::U8(transpose(v, cols, k)),
            _ => unreachable!("checked above"),
        };
        let t = TensorData::new(vec![k, cols], codes).map_err(|e| e.to_string())?;
        (
            add_const(g, namer, &format!("{}_kn", dw.inputs[0]), t),
            dw.input(2).map(str::to_string),
        )
    } else {
        (dw.inputs[0].clone(), dw.input(2).map(str::to_string))
    };
    let mut inputs = vec![
        dyn_q.inputs[0].clone(),
        wq,
        dw.inputs[1].clone(),
        wz.unwrap_or_default(),
    ];
    if let Some(b) = n.input(2) {
        let t = constant(g, b).ok_or("bias is not a constant")?;
        if t.dtype() != DType::F32 || t.len() != cols {
            return Err("bias is not one float per output column".into());
        }
        inputs.push(b.to_string());
    }
    while inputs.last().is_some_and(String::is_empty) {
        inputs.pop();
    }
    g.nodes[i] = Node {
        name: n.name.clone(),
        op_type: "DynamicQuantizeMatMul".into(),
        domain: "com.microsoft".into(),
        inputs,
        outputs: n.outputs.clone(),
        attrs: Default::default(),
    };
    Ok(Some(()))
}

/// Folds every `DequantizeLinear` whose inputs are all constants.
fn fold_constant_dq(g: &mut Graph) -> Result<usize, (String, String)> {
    let mut folded = 0;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let all_const = n
            .inputs
            .iter()
            .filter(|s| !s.is_empty())
            .all(|s| constant(g, s).is_some());
        if !is(n, "DequantizeLinear") || !all_const {
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
fn dequantize_node(g: &Graph, n: &Node) -> Result<TensorData, (String, String)> {
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
