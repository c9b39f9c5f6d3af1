//! Batching the input projections of an unrolled recurrence when a session is built.
//!
//! Exporters that unroll a recurrent layer (PyTorch tracing a loop over an `LSTMCell` or
//! `GRUCell`) write one `Gemm` per time step on that step's slice of the input sequence, all
//! with the same constant weight:
//!
//! ```text
//!   X[T, B, K] ─> Gather(axis 0, t) ─> Gemm(W, C) ─> ...                  for each step t
//!   =>  X ─> burnish::Linear(W', C) ─> Y[T, B, N] ─> Gather(axis 0, t) ─> ...
//! ```
//!
//! The projections do not depend on the recurrence, so one product over all steps reads the
//! weight once instead of once per step, as onnxruntime's own LSTM kernel does. Each step then
//! gathers its rows of the product. Exact: a row of a product does not depend on the other
//! rows, and the packed kernel sums every row in the same order whatever the row count
//! ([`burnish_kernels::f32::linear::PackedLinear::forward`]); products of more rows than it
//! takes run on a GEMM, with that GEMM's summation order.
//!
//! Taken: `Gemm` with `transA = 0`, `alpha = 1`, `beta = 1` (or no `C`), a constant 2-D float
//! weight, no `C` or a constant one of `N` values, reading a `Gather` on axis 0 by a constant
//! index of rank 0 or 1; at least two such nodes on the same sequence, weight, `C` and `transB`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use burnish_model::query::{self, Namer, is_op};
use burnish_model::{AttrExt, Attribute, Graph, Node, TensorData, domain};

/// One step's projection: the `Gemm` node, the `Gather` it reads, the gathered index.
struct Step {
    gemm: usize,
    gather: usize,
    index: String,
}

/// What the steps of one recurrence share: sequence, weight, `C`, `transB`.
type Key = (String, String, Option<String>, bool);

/// `graph` with its projections batched when `fuse` is on and there is a group to batch;
/// `graph` itself otherwise.
pub(crate) fn when(fuse: bool, graph: &Graph) -> Cow<'_, Graph> {
    match fuse.then(|| rewrite(graph)).flatten() {
        Some(g) => Cow::Owned(g),
        None => Cow::Borrowed(graph),
    }
}

/// The graph with every batchable group of projections rewritten, or `None` when there is none.
fn rewrite(graph: &Graph) -> Option<Graph> {
    let producer: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.outputs.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let mut order: Vec<Key> = Vec::new();
    let mut groups: HashMap<Key, Vec<Step>> = HashMap::new();
    for (j, node) in graph.nodes.iter().enumerate() {
        let Some((key, step)) = projection(graph, &producer, j, node) else {
            continue;
        };
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(step);
    }
    order.retain(|k| groups[k].len() >= 2);
    if order.is_empty() {
        return None;
    }
    let mut out = graph.clone();
    let mut namer = Namer::new(graph);
    let mut before: HashMap<usize, Node> = HashMap::new();
    let mut gathers = Vec::new();
    for key in &order {
        let steps = &groups[key];
        let (sequence, weight, bias, transposed) = key;
        let w = query::constant(graph, weight)?;
        let weight_kn = if *transposed {
            let (n, k) = (w.shape[0], w.shape[1]);
            let values = query::transpose(w.as_f32()?, n, k);
            query::add_const(
                &mut out,
                &mut namer,
                &format!("{weight}_kn"),
                TensorData::from_f32(vec![k, n], values),
            )
        } else {
            weight.clone()
        };
        let first = &graph.nodes[steps[0].gemm];
        let product = namer.fresh(&format!("{}_all_steps", first.outputs[0]));
        let mut inputs = vec![sequence.clone(), weight_kn];
        inputs.extend(bias.iter().cloned());
        let mut linear = query::node(
            namer.fresh(&format!("{}/all_steps", first.name)),
            domain::LINEAR,
            inputs,
            vec![product.clone()],
        );
        linear.domain = domain::DOMAIN.into();
        before.insert(steps[0].gemm, linear);
        for step in steps {
            let gemm = &graph.nodes[step.gemm];
            let mut gather = query::node(
                gemm.name.clone(),
                "Gather",
                vec![product.clone(), step.index.clone()],
                gemm.outputs.clone(),
            );
            gather.attrs.insert("axis".into(), Attribute::Int(0));
            out.nodes[step.gemm] = gather;
            gathers.push(step.gather);
        }
    }
    let dead: HashSet<usize> = gathers
        .into_iter()
        .filter(|&i| {
            let o = &graph.nodes[i].outputs[0];
            !query::is_graph_output(&out, o) && query::use_count(&out, o) == 0
        })
        .collect();
    let nodes = std::mem::take(&mut out.nodes);
    for (i, node) in nodes.into_iter().enumerate() {
        out.nodes.extend(before.remove(&i));
        if !dead.contains(&i) {
            out.nodes.push(node);
        }
    }
    for (_, weight, _, _) in &order {
        if query::use_count(&out, weight) == 0 && !out.inputs.iter().any(|i| &i.name == weight) {
            out.initializers.remove(weight);
        }
    }
    Some(out)
}

/// Node `j` as one step's projection, with the group it belongs to.
fn projection(
    graph: &Graph,
    producer: &HashMap<&str, usize>,
    j: usize,
    node: &Node,
) -> Option<(Key, Step)> {
    if !is_op(node, "Gemm") || node.outputs.len() != 1 || node.inputs.len() > 3 {
        return None;
    }
    let attrs = &node.attrs;
    let plain = attrs.int_or("transA", 0).ok()? == 0
        && attrs.float_or("alpha", 1.0).ok()? == 1.0
        && (attrs.float_or("beta", 1.0).ok()? == 1.0 || node.input(2).is_none());
    let transposed = match attrs.int_or("transB", 0).ok()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let weight = node.input(1)?;
    let w = query::constant(graph, weight)?;
    if !plain || w.shape.len() != 2 || w.as_f32().is_none() {
        return None;
    }
    let n = w.shape[usize::from(!transposed)];
    let bias = match node.input(2) {
        None => None,
        Some(c) => {
            let t = query::constant(graph, c)?;
            if !(t.shape == [n] || t.shape == [1, n]) || t.as_f32().is_none() {
                return None;
            }
            Some(c.to_string())
        }
    };
    let gather = *producer.get(node.input(0)?)?;
    let g = &graph.nodes[gather];
    if !is_op(g, "Gather") || g.attrs.int_or("axis", 0).ok()? != 0 || g.outputs.len() != 1 {
        return None;
    }
    let index = g.input(1)?;
    if constant_rank(graph, producer, index)? > 1 {
        return None;
    }
    let key = (
        g.input(0)?.to_string(),
        weight.to_string(),
        bias,
        transposed,
    );
    let step = Step {
        gemm: j,
        gather,
        index: index.to_string(),
    };
    Some((key, step))
}

/// The rank of constant `name`: an initializer or a `Constant` node's output.
fn constant_rank(graph: &Graph, producer: &HashMap<&str, usize>, name: &str) -> Option<usize> {
    if let Some(t) = query::constant(graph, name) {
        return Some(t.shape.len());
    }
    let node = &graph.nodes[*producer.get(name)?];
    if !is_op(node, "Constant") {
        return None;
    }
    match node.attrs.iter().next()? {
        (k, Attribute::Tensor(t)) if k == "value" => Some(t.shape.len()),
        (k, Attribute::Int(_)) if k == "value_int" => Some(0),
        (k, Attribute::Ints(_)) if k == "value_ints" => Some(1),
        _ => None,
    }
}
