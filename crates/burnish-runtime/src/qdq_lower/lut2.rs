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
//! A pair table one of whose inputs is a `QLut` of the other (onnxruntime's SiLU layout,
//! `x * Q(Sigmoid(x))`) folds into one 256-entry `QLut` of that input.

use burnish_model::query::{Namer, add_const, constant, is_op, single_use};
use burnish_model::{Buffer, Graph, Model, Node, TensorData, domain};

use super::lut::{codes_for, per_tensor_u8_i8, run_on_codes};
use super::{producer, readers};

const BINARY: [&str; 6] = ["Mul", "Add", "Sub", "Div", "Max", "Min"];

/// Rewrites every such op; returns how many.
pub(super) fn binary_tables(model: &mut Model, namer: &mut Namer) -> usize {
    let done = pair_tables(model, namer);
    compose(&mut model.graph, namer);
    done
}

/// A pair table whose second input is a table of its first (`x * Q(Sigmoid(x))` in
/// onnxruntime's SiLU layout), or the reverse, is a table of one input:
/// `t[x] = pair[256 x + unary[x]]`. Exact: the same codes are looked up.
fn compose(g: &mut Graph, namer: &mut Namer) {
    let table = |g: &Graph, name: &str| -> Option<Vec<u8>> {
        Some(match &constant(g, name)?.data {
            Buffer::U8(v) => v.clone(),
            Buffer::I8(v) => v.iter().map(|&c| c as u8).collect(),
            _ => return None,
        })
    };
    for i in 0..g.nodes.len() {
        let n = &g.nodes[i];
        if n.op_type != domain::QLUT2 || n.domain != domain::DOMAIN || n.inputs.len() != 3 {
            continue;
        }
        let unary_of = |v: &str, of: &str| {
            g.nodes
                .iter()
                .find(|m| m.outputs.first().is_some_and(|o| o == v))
                .filter(|m| m.op_type == domain::QLUT && m.domain == domain::DOMAIN)
                .filter(|m| m.inputs.first().is_some_and(|x| x == of))
                .and_then(|m| table(g, m.input(1)?))
        };
        let (a, b) = (n.inputs[0].clone(), n.inputs[1].clone());
        let Some(pair) = table(g, &n.inputs[2]) else {
            continue;
        };
        let signed = matches!(
            constant(g, &n.inputs[2]).map(|t| &t.data),
            Some(Buffer::I8(_))
        );
        let (x, composed): (String, Vec<u8>) = if let Some(t1) = unary_of(&b, &a) {
            (
                a,
                (0..256)
                    .map(|x| pair[x << 8 | usize::from(t1[x])])
                    .collect(),
            )
        } else if let Some(t1) = unary_of(&a, &b) {
            (
                b,
                (0..256)
                    .map(|y| pair[usize::from(t1[y]) << 8 | y])
                    .collect(),
            )
        } else {
            continue;
        };
        let data = if signed {
            Buffer::I8(composed.into_iter().map(|c| c as i8).collect())
        } else {
            Buffer::U8(composed)
        };
        let name = g.nodes[i].name.clone();
        let t = add_const(
            g,
            namer,
            &format!("{name}_composed"),
            TensorData {
                shape: vec![256],
                data,
            },
        );
        let n = &mut g.nodes[i];
        n.op_type = domain::QLUT.into();
        n.inputs = vec![x, t];
    }
}

/// Rewrites every binary op of two dequantized values; returns how many.
fn pair_tables(model: &mut Model, namer: &mut Namer) -> usize {
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
    if !BINARY.iter().any(|op| is_op(n, op)) || n.inputs.len() != 2 || n.outputs.len() != 1 {
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
    (is_op(&g.nodes[q], "QuantizeLinear") && per_tensor_u8_i8(g, &g.nodes[q])).then_some((dqs, q))
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
