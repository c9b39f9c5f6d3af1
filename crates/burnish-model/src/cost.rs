//! Multiply-accumulate counts per node, from the shapes seen at run time.

use crate::attr::{AttrExt, Attributes};
use crate::domain;

/// MACs of one node given its input and output shapes, for the op types where the count is
/// well defined (convolutions, matrix products, recurrent cells, and their fused and quantized
/// forms: `burnish` `FusedConv`/`Linear`/`QConv`/`QMatMul`, ONNX `QLinearConv`, ...), and for
/// the runtime's steps that run several nodes as one (`Conv+BatchNormalization+Relu`): their
/// first node's count; `None` otherwise.
pub fn node_macs(
    op_type: &str,
    attrs: &Attributes,
    inputs: &[Vec<usize>],
    outputs: &[Vec<usize>],
) -> Option<u64> {
    let prod = |s: &[usize]| s.iter().map(|&d| d as u64).product::<u64>();
    // A step that runs several nodes as one (`Conv+BatchNormalization+Relu`, the runtime's conv
    // chains) costs what its first node costs; its inputs start with that node's.
    let op_type = op_type.split('+').next().unwrap_or(op_type);
    match op_type {
        "Conv" | domain::FUSED_CONV | "ConvInteger" | domain::QCONV | "QLinearConv" => {
            let w = inputs.get(conv_weight_index(op_type))?;
            let y = outputs.first()?;
            Some(prod(y) * prod(w.get(1..)?))
        }
        "ConvTranspose" => {
            let x = inputs.first()?;
            let w = inputs.get(1)?;
            Some(prod(x) * prod(w.get(1..)?))
        }
        "MatMul"
        | "MatMulInteger"
        | domain::FUSED_MATMUL
        | domain::LINEAR
        | domain::QMATMUL
        | "QLinearMatMul"
        | "DynamicQuantizeMatMul"
        | "MatMulIntegerToFloat" => {
            let a = inputs.first()?;
            let y = outputs.first()?;
            Some(prod(y) * *a.last()? as u64)
        }
        "Gemm" | domain::FUSED_GEMM | "QGemm" => {
            let a = inputs.first()?;
            let y = outputs.first()?;
            let trans_a = attrs.int_or("transA", 0).ok()? != 0;
            let k = if trans_a { a.first()? } else { a.last()? };
            Some(prod(y) * *k as u64)
        }
        "LSTM" | "GRU" => {
            let gates = if op_type == "LSTM" { 4 } else { 3 };
            let x = inputs.first()?;
            let r = inputs.get(2)?;
            let [dirs, gh, h] = [r.first()?, r.get(1)?, r.get(2)?].map(|&v| v as u64);
            let steps_batch = (*x.first()? * *x.get(1)?) as u64;
            let input = *x.get(2)? as u64;
            Some(steps_batch * dirs * gh * (input + h) / gates * gates)
        }
        _ => None,
    }
}

/// Input index of the weight of a convolution-like op (`QConv`/`QLinearConv` put the input's
/// scale and zero point first).
fn conv_weight_index(op_type: &str) -> usize {
    match op_type {
        domain::QCONV | "QLinearConv" => 3,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_and_quantized_forms_count_like_their_float_op() {
        let attrs = Attributes::default();
        let (x, w, y) = (vec![1, 3, 8, 8], vec![4, 3, 3, 3], vec![1, 4, 6, 6]);
        let want = 4 * 6 * 6 * 3 * 3 * 3;
        let conv = node_macs(
            "Conv",
            &attrs,
            &[x.clone(), w.clone()],
            std::slice::from_ref(&y),
        );
        assert_eq!(conv, Some(want));
        let chain = ["Conv+BatchNormalization+Add+Relu", "Conv+Relu"];
        for op in chain {
            let ins = [x.clone(), w.clone(), vec![4], vec![4], vec![1, 4, 6, 6]];
            assert_eq!(node_macs(op, &attrs, &ins, std::slice::from_ref(&y)), conv);
        }
        assert_eq!(
            node_macs(
                "FusedConv",
                &attrs,
                &[x.clone(), w.clone()],
                std::slice::from_ref(&y)
            ),
            conv
        );
        let scalar = vec![];
        let q = [x, scalar.clone(), scalar.clone(), w, vec![4], scalar];
        assert_eq!(
            node_macs("QConv", &attrs, &q, std::slice::from_ref(&y)),
            conv
        );
        assert_eq!(node_macs("QLinearConv", &attrs, &q, &[y]), conv);
        let mm = node_macs("QMatMul", &attrs, &[vec![2, 5, 16]], &[vec![2, 5, 8]]);
        assert_eq!(mm, Some(2 * 5 * 8 * 16));
        assert_eq!(node_macs("Relu", &attrs, &[vec![4]], &[vec![4]]), None);
    }

    #[test]
    fn weights_an_op_captured_at_build_leave_the_count_unknown() {
        let attrs = Attributes::default();
        let none = Vec::new();
        let x = vec![3, 2, 5];
        for op in ["LSTM", "GRU", "ConvTranspose"] {
            let ins = [x.clone(), none.clone(), none.clone()];
            assert_eq!(
                node_macs(op, &attrs, &ins, &[vec![3, 1, 2, 6]]),
                None,
                "{op}"
            );
        }
        let lstm = [x, vec![1, 24, 5], vec![1, 24, 6]];
        assert_eq!(
            node_macs("LSTM", &attrs, &lstm, &[vec![3, 1, 2, 6]]),
            Some(3 * 2 * 24 * (5 + 6))
        );
    }
}
