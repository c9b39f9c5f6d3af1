//! A long chain of small ops: what makes a pass super-linear in the node count shows here
//! (one session per folded node, use counts that scan every node, `Vec::remove` per rewrite).

use burnish_model::{Attribute, Model, TensorData};

use super::Builder;

/// A chain of about `nodes` nodes over `x: [batch, 8]`, in blocks of five: a `Constant`
/// (folded), `Add` of it, `Relu`, an `Identity` (removed) and a `Mul` by a shared weight,
/// so every pass has work or candidates along the whole chain.
pub fn chain(nodes: usize) -> Model {
    let mut b = Builder::new("chain");
    let mut h = b.input("x", &[None, Some(8)]);
    let w = b.weight("w", &[8], 0.5);
    for k in 0..nodes.div_ceil(5) {
        let value = TensorData::from_f32(vec![8], vec![0.01 * (k % 7) as f32; 8]);
        let c = b.node("Constant", &[], &[("value", Attribute::Tensor(value))]);
        let a = b.node("Add", &[&h, &c], &[]);
        let r = b.node("Relu", &[&a], &[]);
        let i = b.node("Identity", &[&r], &[]);
        h = b.node("Mul", &[&i, &w], &[]);
    }
    b.output(&h);
    b.finish()
}
