//! Step 1: shape ops (and `MaxPool`, whose maximum commutes with a positive-scale
//! dequantization) moved onto quantized codes.

use burnish_model::Graph;
use burnish_model::query::{constant, is_op, single_use};

use super::{producer, readers, same_const};
pub(super) fn move_shape_ops(g: &mut Graph) -> usize {
    let mut moved = 0;
    let mut i = 0;
    while i < g.nodes.len() {
        let n = &g.nodes[i];
        let one_output = n.outputs.iter().skip(1).all(String::is_empty);
        let shape_op = [
            "Reshape",
            "Flatten",
            "Squeeze",
            "Unsqueeze",
            "Transpose",
            "MaxPool",
        ]
        .iter()
        .any(|op| is_op(n, op))
            && one_output;
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
                let ok = is_op(q, "QuantizeLinear")
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
