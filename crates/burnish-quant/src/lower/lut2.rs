//! Step 2b': a binary elementwise op of two dequantized values, requantized, becomes a
//! 65,536-entry table.
//!
//! ```text
//! DQ(a, sa, za) ─┐
//! DQ(b, sb, zb) ─┴─> Mul | Add | Sub | Div | Max | Min -> Q(s, z)   =>  burnish::QLut2(a, b, table)
//! ```
//! `table[256 * a + b]` (bytes of the codes) is the float graph run once on every pair of codes,
//! as onnxruntime's `QLinearMul`/`QLinearAdd` compute the same op on codes. The op's output is
//! read only by the `Q`; the DQs stay for their other readers. Inputs broadcast as the op does.

use burnish_model::{Graph, Model, Node, domain};
use burnish_optimizer::rewrite::{constant, single_use};

use super::lut::{codes_for, per_tensor_u8_i8, run_on_codes};
use super::{producer, readers};
use crate::util::{Namer, add_const, is};

const BINARY: [&str; 6] = ["Mul", "Add", "Sub", "Div", "Max", "Min"];

/// Rewrites every such op; returns how many.
pub(super) fn binary_tables(model: &mut Model, namer: &mut Namer) -> usize {
    let mut done = 0;
    let mut i = 0;
    while i < model.graph.nodes.len() {
        if let Some((dqs, q)) = find(&model.graph, i)
            && let Some(table) = table(model, i, dqs, q)
        {
            rewrite(&mut model.graph, i, dqs, q, table, namer);
            done += 1;
            continue;
        }
        i += 1;
    }
    done
}

fn find(g: &Graph, i: usize) -> Option<([usize; 2], usize)> {
    let n = &g.nodes[i];
    if !BINARY.iter().any(|op| is(n, op)) || n.inputs.len() != 2 || n.outputs.len() != 1 {
        return None;
    }
    let index = |v: &str| {
        let d = producer(g, v, "DequantizeLinear")?;
        let ok = per_tensor_u8_i8(g, d) && constant(g, &d.inputs[0]).is_none();
        ok.then(|| g.nodes.iter().position(|m| std::ptr::eq(m, d)))
            .flatten()
    };
    let dqs = [index(&n.inputs[0])?, index(&n.inputs[1])?];
    let y = &n.outputs[0];
    if !single_use(g, y) || g.outputs.iter().any(|o| &o.name == y) {
        return None;
    }
    let q = *readers(g, y).first()?;
    (is(&g.nodes[q], "QuantizeLinear") && per_tensor_u8_i8(g, &g.nodes[q])).then_some((dqs, q))
}

fn table(
    model: &Model,
    op: usize,
    [da, db]: [usize; 2],
    q: usize,
) -> Option<burnish_model::TensorData> {
    let g = &model.graph;
    let (dqa, dqb) = (g.nodes[da].clone(), g.nodes[db].clone());
    let mut op_node = g.nodes[op].clone();
    let mut qa = dqa.clone();
    let mut qb = dqb.clone();
    // Fresh names: both inputs may come from one DQ.
    qa.inputs[0] = "lut2_a".into();
    qa.outputs[0] = "lut2_af".into();
    qb.inputs[0] = "lut2_b".into();
    qb.outputs[0] = "lut2_bf".into();
    op_node.inputs = vec!["lut2_af".into(), "lut2_bf".into()];
    op_node.outputs = vec!["lut2_y".into()];
    let mut quant = g.nodes[q].clone();
    quant.inputs[0] = "lut2_y".into();
    quant.outputs = vec!["lut2_out".into()];
    let a = codes_for(g, &dqa, (0..=u16::MAX).map(|i| (i >> 8) as u8).collect())?;
    let b = codes_for(g, &dqb, (0..=u16::MAX).map(|i| i as u8).collect())?;
    let out = run_on_codes(
        model,
        vec![qa, qb, op_node, quant],
        vec![("lut2_a".into(), a), ("lut2_b".into(), b)],
        "lut2_out",
    )?;
    (out.len() == 1 << 16).then_some(out)
}

fn rewrite(
    g: &mut Graph,
    op: usize,
    [da, db]: [usize; 2],
    q: usize,
    table: burnish_model::TensorData,
    namer: &mut Namer,
) {
    let name = g.nodes[op].name.clone();
    let t = add_const(g, namer, &format!("{name}_table"), table);
    let lut = Node {
        name: namer.fresh(&format!("{name}_lut2")),
        op_type: domain::QLUT2.into(),
        domain: domain::DOMAIN.into(),
        inputs: vec![
            g.nodes[da].inputs[0].clone(),
            g.nodes[db].inputs[0].clone(),
            t,
        ],
        outputs: vec![g.nodes[q].outputs[0].clone()],
        attrs: Default::default(),
    };
    g.nodes[q] = lut;
    g.nodes.remove(op);
}
