//! Compiling a graph into an execution plan: value slots, compiled ops, liveness.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use burnish_model::{Graph, Model, Node, ValueInfo};

use crate::batch_projections;
use crate::error::RuntimeError;
use crate::fold::fold_constants;
use crate::fusion::{self, Chain};
use crate::ops::conv_chain::{Link, chain_op_type, conv_chain};
use crate::ops::map_chain;
use crate::ops::{self, BuildCtx, Known, Op};
use crate::qdq_lower::{has_qdq, lower_qdq};
use crate::value::Value;

/// One compiled node.
pub(crate) struct Step {
    pub name: String,
    pub op_type: String,
    pub op: Box<dyn Op>,
    /// Per input position: the slot, and whether this is its last use (move instead of clone).
    pub inputs: Vec<Option<(usize, bool)>>,
    /// Per output position: the slot, or `None` when the output is omitted or never read.
    pub outputs: Vec<Option<usize>>,
    /// The shapes of the constant inputs the op captured at build (which runs do not pass),
    /// by input position, for the timings' input shapes.
    pub captured_shapes: Vec<(usize, Vec<usize>)>,
}

/// A graph ready to run.
pub(crate) struct Plan {
    pub slots: usize,
    pub consts: Vec<(usize, Value)>,
    pub inputs: Vec<(ValueInfo, usize)>,
    pub outputs: Vec<(String, usize)>,
    pub steps: Vec<Step>,
}

/// Ops of the graph (subgraphs included) that the runtime does not implement, with counts.
pub fn unsupported_ops(graph: &Graph) -> BTreeMap<String, usize> {
    let mut missing = BTreeMap::new();
    collect_unsupported(graph, &mut missing);
    missing
}

fn collect_unsupported(graph: &Graph, missing: &mut BTreeMap<String, usize>) {
    for node in &graph.nodes {
        if ops::builder(&node.domain, &node.op_type).is_none() {
            *missing.entry(node.qualified_op()).or_insert(0) += 1;
        }
        for sub in node.subgraphs() {
            collect_unsupported(sub, missing);
        }
    }
}

impl Step {
    fn new(
        name: String,
        op_type: String,
        op: Box<dyn Op>,
        inputs: &[String],
        outputs: &[String],
        slot: &mut impl FnMut(&str) -> usize,
        readers: &HashMap<&str, usize>,
    ) -> Step {
        let inputs = inputs
            .iter()
            .map(|n| (!n.is_empty()).then(|| (slot(n), false)))
            .collect();
        let outputs = outputs
            .iter()
            .map(|n| (!n.is_empty() && readers.contains_key(n.as_str())).then(|| slot(n)))
            .collect();
        Step {
            name,
            op_type,
            op,
            inputs,
            outputs,
            captured_shapes: Vec::new(),
        }
    }
}

impl Plan {
    /// Compiles `model`; with `fuse`, conv chains run as one kernel call ([`crate::fusion`]);
    /// with `qdq_int8`, a graph holding default-domain `DequantizeLinear` is first lowered to
    /// int8 ops (on a copy, [`crate::qdq_lower`]); other graphs compile as they are.
    pub fn compile(model: &Model, fuse: bool, qdq_int8: bool) -> Result<Plan, RuntimeError> {
        let missing = unsupported_ops(&model.graph);
        if !missing.is_empty() {
            return Err(RuntimeError::UnsupportedOps { ops: missing });
        }
        let lowered;
        let model = if qdq_int8 && has_qdq(&model.graph) {
            let mut copy = model.clone();
            lower_qdq(&mut copy)?;
            lowered = copy;
            &lowered
        } else {
            model
        };
        Plan::compile_graph(&model.graph, model.opset(), fuse, &Known::new(), &[])
    }

    /// Compiles a graph in an enclosing scope: `outer` holds the constants of the enclosing
    /// graphs, `implicit` the other enclosing values the graph reads, which become extra
    /// inputs after its own (the subgraphs of `If`, `Loop` and `Scan` compile this way).
    pub(crate) fn compile_graph(
        graph: &Graph,
        opset: i64,
        fuse: bool,
        outer: &Known,
        implicit: &[String],
    ) -> Result<Plan, RuntimeError> {
        let graph = &*batch_projections::when(fuse, graph);
        let mut next = 0usize;
        let mut slot = |name: &str, map: &mut HashMap<String, usize>| -> usize {
            *map.entry(name.to_string()).or_insert_with(|| {
                next += 1;
                next - 1
            })
        };
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut host: Known = HashMap::new();
        let mut consts = Vec::new();
        let captured_consts = graph
            .free_values()
            .into_iter()
            .filter(|n| !implicit.contains(n))
            .filter_map(|n| outer.get(&n).map(|t| (n, t.clone())));
        for (name, t) in graph
            .initializers
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .chain(captured_consts)
        {
            let (name, t) = (&name, &t);
            let s = slot(name, &mut names);
            let v = Value::from_data(t).map_err(|e| RuntimeError::Value {
                name: name.clone(),
                message: e.to_string(),
            })?;
            consts.push((s, v));
            host.insert(name.clone(), t.clone());
        }
        let implicit_infos = implicit.iter().map(|name| ValueInfo {
            name: name.clone(),
            dtype: None,
            shape: None,
        });
        let inputs: Vec<(ValueInfo, usize)> = graph
            .inputs
            .iter()
            .cloned()
            .chain(implicit_infos)
            .map(|i| {
                let s = slot(&i.name, &mut names);
                (i, s)
            })
            .collect();

        let mut last_use: HashMap<usize, usize> = HashMap::new();
        let mut readers: HashMap<&str, usize> = HashMap::new();
        let node_implicit: Vec<Vec<String>> = graph
            .nodes
            .iter()
            .map(|n| {
                let mut names = n.implicit_inputs();
                names.retain(|name| !host.contains_key(name) && !outer.contains_key(name));
                names
            })
            .collect();
        for (node, extra) in graph.nodes.iter().zip(&node_implicit) {
            for input in node.inputs.iter().chain(extra).filter(|s| !s.is_empty()) {
                *readers.entry(input.as_str()).or_insert(0) += 1;
            }
        }
        for o in &graph.outputs {
            *readers.entry(o.name.as_str()).or_insert(0) += 1;
        }

        let mut chains: HashMap<usize, Chain> = HashMap::new();
        let mut folded = fold_constants(graph, opset, &mut host);
        if fuse {
            for chain in fusion::find_chains(graph, opset, &host, &readers) {
                if let Some(&last) = chain.nodes.last() {
                    chains.insert(last, chain);
                }
            }
        }
        let in_chain: HashSet<usize> = chains.values().flat_map(|c| c.nodes.clone()).collect();
        let mut held: HashMap<usize, Box<dyn Op>> = HashMap::new();
        let map_chains = if fuse {
            let taken: HashSet<usize> = in_chain.iter().chain(folded.keys()).copied().collect();
            map_chain::find(graph, opset, &host, &readers, &taken)
        } else {
            Vec::new()
        };
        let in_map: HashMap<usize, (usize, usize)> = map_chains
            .iter()
            .enumerate()
            .flat_map(|(c, chain)| {
                chain
                    .nodes
                    .iter()
                    .enumerate()
                    .map(move |(k, &i)| (i, (c, k)))
            })
            .collect();
        let mut map_held: HashMap<usize, Vec<map_chain::Member>> = HashMap::new();

        let mut steps = Vec::with_capacity(graph.nodes.len());
        for (index, node) in graph.nodes.iter().enumerate() {
            let build = ops::builder(&node.domain, &node.op_type).ok_or_else(|| {
                RuntimeError::UnsupportedOps {
                    ops: [(node.qualified_op(), 1)].into(),
                }
            })?;
            let scope: Known;
            let mut ctx = BuildCtx::new(node, opset, &host);
            if node.has_subgraphs() {
                scope = host
                    .iter()
                    .chain(outer.iter())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                ctx = BuildCtx::new(node, opset, &scope);
                ctx.implicit = node_implicit[index].clone();
                ctx.fuse = fuse;
            }
            ctx.unread = node
                .outputs
                .iter()
                .map(|o| !o.is_empty() && !readers.contains_key(o.as_str()))
                .collect();
            let err = |message: String| RuntimeError::Build {
                node: node.name.clone(),
                op: node.op_type.clone(),
                message,
            };
            if let Some(values) = folded.remove(&index) {
                for (name, v) in values {
                    consts.push((slot(&name, &mut names), v));
                }
                continue;
            }
            let op = build(&ctx).map_err(err)?;
            let captured: Vec<usize> = op
                .captured()
                .iter()
                .copied()
                .filter(|&p| ctx.consts.get(p).is_some_and(Option::is_some))
                .collect();
            let captured_shapes: Vec<(usize, Vec<usize>)> = captured
                .iter()
                .filter_map(|&p| Some((p, ctx.consts.get(p)?.as_ref()?.shape.clone())))
                .collect();
            if node.op_type == "Constant"
                && let Some(out) = node.outputs.first()
            {
                let data = ops::generate::constant_data(&ctx).map_err(err)?;
                let v = Value::upload(&data).map_err(err)?;
                host.insert(out.clone(), Arc::new(data));
                // A constant of the plan, as initializers are: no step runs per inference.
                consts.push((slot(out, &mut names), v));
                continue;
            }
            let mut slot_of = |n: &str| slot(n, &mut names);
            if let Some(&(c, k)) = in_map.get(&index) {
                let chain = &map_chains[c];
                let fed = chain.fed(k);
                let others = node
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(p, n)| {
                        let fixed = p != fed && !n.is_empty() && !captured.contains(&p);
                        fixed
                            .then(|| host.get(n).and_then(|t| Value::from_data(t).ok()))
                            .flatten()
                    })
                    .collect();
                let members = map_held.entry(c).or_default();
                members.push(map_chain::Member { op, others });
                if k + 1 == chain.nodes.len() {
                    let members = map_held.remove(&c).unwrap_or_default();
                    let nodes: Vec<&Node> = chain.nodes.iter().map(|&i| &graph.nodes[i]).collect();
                    let head = nodes[0];
                    let input = head.inputs[chain.fed(0)].clone();
                    steps.push(Step::new(
                        head.name.clone(),
                        chain_op_type(&nodes),
                        map_chain::op(chain, members),
                        &[input],
                        &node.outputs,
                        &mut slot_of,
                        &readers,
                    ));
                }
                continue;
            }
            if !in_chain.contains(&index) {
                let mut ins = node.inputs.clone();
                ins.extend(node_implicit[index].iter().cloned());
                let outs = &node.outputs;
                let (name, op_type) = (node.name.clone(), node.op_type.clone());
                let mut step = Step::new(name, op_type, op, &ins, outs, &mut slot_of, &readers);
                for p in captured {
                    step.inputs[p] = None;
                }
                step.captured_shapes = captured_shapes;
                steps.push(step);
                continue;
            }
            held.insert(index, op);
            let Some(chain) = chains.remove(&index) else {
                continue;
            };
            let nodes: Vec<&Node> = chain.nodes.iter().map(|&i| &graph.nodes[i]).collect();
            let mut links = Vec::with_capacity(nodes.len());
            let mut ins: Vec<String> = Vec::new();
            for (k, (&i, member)) in chain.nodes.iter().zip(&nodes).enumerate() {
                let fed = match k {
                    0 => 0,
                    _ => nodes[k - 1]
                        .outputs
                        .first()
                        .and_then(|prev| member.inputs.iter().position(|n| n == prev))
                        .ok_or_else(|| {
                            err(format!(
                                "conv chain member `{}` does not read the previous node's output",
                                member.name
                            ))
                        })?,
                };
                ins.extend(
                    member
                        .inputs
                        .iter()
                        .enumerate()
                        .filter(|&(p, _)| k == 0 || p != fed)
                        .map(|(_, n)| n.clone()),
                );
                let op = held.remove(&i).ok_or_else(|| {
                    err(format!("conv chain member `{}` was not built", member.name))
                })?;
                links.push(Link {
                    op,
                    arity: member.inputs.len(),
                    fed,
                });
            }
            let head = nodes[0];
            let op = conv_chain(&BuildCtx::new(head, opset, &host), chain.tail, links).map_err(
                |message| RuntimeError::Build {
                    node: head.name.clone(),
                    op: head.op_type.clone(),
                    message,
                },
            )?;
            let op_type = chain_op_type(&nodes);
            let outs = &node.outputs;
            steps.push(Step::new(
                head.name.clone(),
                op_type,
                op,
                &ins,
                outs,
                &mut slot_of,
                &readers,
            ));
        }
        for (i, step) in steps.iter().enumerate() {
            for (s, _) in step.inputs.iter().flatten() {
                last_use.insert(*s, i);
            }
        }
        let outputs: Vec<(String, usize)> = graph
            .outputs
            .iter()
            .map(|o| (o.name.clone(), slot(&o.name, &mut names)))
            .collect();
        for (_, s) in &outputs {
            last_use.insert(*s, usize::MAX);
        }
        consts.retain(|(s, _)| last_use.contains_key(s));
        for (i, step) in steps.iter_mut().enumerate() {
            let mut seen = Vec::new();
            for pos in (0..step.inputs.len()).rev() {
                if let Some((s, take)) = step.inputs[pos].as_mut() {
                    *take = last_use.get(s) == Some(&i) && !seen.contains(s);
                    seen.push(*s);
                }
            }
        }
        Ok(Plan {
            slots: next,
            consts,
            inputs,
            outputs,
            steps,
        })
    }
}
