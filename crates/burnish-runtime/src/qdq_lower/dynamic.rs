//! Step 3: dynamic int8 MatMul/Gemm to `com.microsoft::DynamicQuantizeMatMul`.

use burnish_model::query::{Namer, add_const, constant, is_op, transpose};
use burnish_model::{AttrExt, Buffer, DType, Graph, Node, TensorData};

use super::{float_attr, producer};

/// Step 3 at node `i`: `Ok(Some)` rewritten, `Ok(None)` not a dynamic pattern.
pub(super) fn dynamic_pattern(
    g: &mut Graph,
    i: usize,
    namer: &mut Namer,
) -> Result<Option<()>, String> {
    let n = g.nodes[i].clone();
    if is_op(&n, "Conv") {
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
    let gemm = is_op(&n, "Gemm");
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
