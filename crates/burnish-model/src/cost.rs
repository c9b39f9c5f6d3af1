//! Multiply-accumulate counts per node, from the shapes seen at run time.

use crate::attr::{AttrExt, Attributes};

/// MACs of one node given its input and output shapes, for the op types where the count is
/// well defined (convolutions, matrix products, recurrent cells); `None` otherwise.
pub fn node_macs(
    op_type: &str,
    attrs: &Attributes,
    inputs: &[Vec<usize>],
    outputs: &[Vec<usize>],
) -> Option<u64> {
    let prod = |s: &[usize]| s.iter().map(|&d| d as u64).product::<u64>();
    match op_type {
        "Conv" => {
            let w = inputs.get(1)?;
            let y = outputs.first()?;
            Some(prod(y) * prod(&w[1..]))
        }
        "ConvTranspose" => {
            let x = inputs.first()?;
            let w = inputs.get(1)?;
            Some(prod(x) * prod(&w[1..]))
        }
        "MatMul" | "MatMulInteger" => {
            let a = inputs.first()?;
            let y = outputs.first()?;
            Some(prod(y) * *a.last()? as u64)
        }
        "Gemm" => {
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
            let (dirs, gh, h) = (r[0] as u64, r[1] as u64, r[2] as u64);
            let steps_batch = (x[0] * x[1]) as u64;
            let input = *x.get(2)? as u64;
            Some(steps_batch * dirs * gh * (input + h) / gates * gates)
        }
        _ => None,
    }
}
