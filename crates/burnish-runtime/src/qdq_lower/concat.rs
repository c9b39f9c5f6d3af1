//! Step 2c: `Concat` of dequantized codes, requantized after it, runs on the codes.
//!
//! ```text
//! DQ(a, sa, za) ─┐
//! DQ(b, sb, zb) ─┴─> Concat -> [MaxPool | Reshape | Transpose | ...] -> Q(s, z)
//!     =>  QLut(a, ta), QLut(b, tb) -> Concat -> [MaxPool | ...]   (codes of (s, z))
//! ```
//! Each input's table is `Q(s, z)` of its dequantized codes (no table when its parameters are
//! the output's); concatenation and the data-movement ops after it commute with the
//! (monotonic) quantization, so the result is exactly the QDQ graph's. Inputs must all be
//! dequantized per tensor and the values up to the `Q` read once.

use burnish_model::query::{Namer, add_const, is_op, single_use};
use burnish_model::{Graph, Model, Node, domain};

use super::lut::{per_tensor_u8_i8, table_of};
use super::{producer, readers, same_const};

/// Ops between the `Concat` and the `Q` that run on codes unchanged.
const MOVES_DATA: [&str; 6] = [
    "MaxPool",
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
];

/// Rewrites every such `Concat`; returns how many.
pub(super) fn concats_on_codes(model: &mut Model, namer: &mut Namer) -> usize {
    let mut done = 0;
    let mut i = 0;
    while i < model.graph.nodes.len() {
        if is_op(&model.graph.nodes[i], "Concat")
            && let Some((dqs, q)) = find(&model.graph, i)
            && rewrite(model, i, &dqs, q, namer).is_some()
        {
            done += 1;
        }
        i += 1;
    }
    done
}

/// The DQ node of every input and the closing Q.
fn find(g: &Graph, c: usize) -> Option<(Vec<usize>, usize)> {
    let node = &g.nodes[c];
    let index = |n: &Node| g.nodes.iter().position(|m| std::ptr::eq(m, n));
    let dqs = node
        .inputs
        .iter()
        .map(|x| {
            producer(g, x, "DequantizeLinear")
                .filter(|d| per_tensor_u8_i8(g, d))
                .and_then(index)
        })
        .collect::<Option<Vec<usize>>>()?;
    let mut value = node.outputs.first()?.as_str();
    loop {
        if !single_use(g, value) || g.outputs.iter().any(|o| o.name == value) {
            return None;
        }
        let r = *readers(g, value).first()?;
        let n = &g.nodes[r];
        if is_op(n, "QuantizeLinear") {
            return (n.inputs[0] == value && per_tensor_u8_i8(g, n)).then_some((dqs, r));
        }
        let one_output = n.outputs.iter().skip(1).all(String::is_empty);
        if !MOVES_DATA.iter().any(|op| is_op(n, op)) || !one_output || n.inputs[0] != value {
            return None;
        }
        value = n.outputs.first().filter(|o| !o.is_empty())?.as_str();
    }
}

fn rewrite(model: &mut Model, c: usize, dqs: &[usize], q: usize, namer: &mut Namer) -> Option<()> {
    let g = &model.graph;
    let qn = g.nodes[q].clone();
    let mut inputs = Vec::with_capacity(dqs.len());
    let mut luts = Vec::new();
    for &d in dqs {
        let dq = &g.nodes[d];
        let codes = dq.inputs[0].clone();
        let same = same_const(g, dq.input(1), qn.input(1))
            && same_const(g, dq.input(2), qn.input(2))
            && (dq.input(2).is_some() || qn.input(2).is_none());
        if same {
            inputs.push(codes);
            continue;
        }
        let mut requant = qn.clone();
        requant.inputs[0] = dq.outputs[0].clone();
        let table = table_of(model, vec![dq.clone(), requant])?;
        luts.push((codes, table, d));
        inputs.push(String::new());
    }
    let last_value = qn.inputs[0].clone();
    let g = &mut model.graph;
    let mut new_nodes = Vec::new();
    let mut it = luts.into_iter();
    for slot in inputs.iter_mut().filter(|s| s.is_empty()) {
        let (codes, table, d) = it.next()?;
        let base = g.nodes[d].name.clone();
        let t = add_const(g, namer, &format!("{base}_requant_table"), table);
        let out = namer.fresh(&format!("{base}_requantized"));
        new_nodes.push(Node {
            name: namer.fresh(&format!("{base}_requant")),
            op_type: domain::QLUT.into(),
            domain: domain::DOMAIN.into(),
            inputs: vec![codes, t],
            outputs: vec![out.clone()],
            attrs: Default::default(),
        });
        *slot = out;
    }
    g.nodes[c].inputs = inputs;
    let producer_of_last = g
        .nodes
        .iter()
        .position(|n| n.outputs.first() == Some(&last_value))?;
    g.nodes[producer_of_last].outputs[0] = qn.outputs[0].clone();
    g.nodes.remove(q);
    for (k, n) in new_nodes.into_iter().enumerate() {
        g.nodes.insert(c + k, n);
    }
    Some(())
}
