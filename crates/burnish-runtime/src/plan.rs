//! Compiling a graph into an execution plan: value slots, compiled ops, liveness.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use burnish_model::{Graph, Model, TensorData, ValueInfo};

use crate::error::RuntimeError;
use crate::ops::{self, BuildCtx, Op};
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
}

/// A graph ready to run.
pub(crate) struct Plan {
    pub slots: usize,
    pub consts: Vec<(usize, Value)>,
    pub inputs: Vec<(ValueInfo, usize)>,
    pub outputs: Vec<(String, usize)>,
    pub steps: Vec<Step>,
}

/// Ops of the graph that the runtime does not implement, with counts.
pub fn unsupported_ops(graph: &Graph) -> BTreeMap<String, usize> {
    let mut missing = BTreeMap::new();
    for node in &graph.nodes {
        if ops::builder(&node.domain, &node.op_type).is_none() {
            *missing.entry(node.qualified_op()).or_insert(0) += 1;
        }
    }
    missing
}

impl Plan {
    pub fn compile(model: &Model) -> Result<Plan, RuntimeError> {
        let graph = &model.graph;
        let missing = unsupported_ops(graph);
        if !missing.is_empty() {
            return Err(RuntimeError::UnsupportedOps { ops: missing });
        }
        let mut next = 0usize;
        let mut slot = |name: &str, map: &mut HashMap<String, usize>| -> usize {
            *map.entry(name.to_string()).or_insert_with(|| {
                next += 1;
                next - 1
            })
        };
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut host: HashMap<String, Arc<TensorData>> = HashMap::new();
        let mut consts = Vec::new();
        for (name, t) in &graph.initializers {
            let s = slot(name, &mut names);
            let v = Value::from_data(t).map_err(|message| RuntimeError::Value {
                name: name.clone(),
                message,
            })?;
            consts.push((s, v));
            host.insert(name.clone(), t.clone());
        }
        let inputs: Vec<(ValueInfo, usize)> = graph
            .inputs
            .iter()
            .map(|i| (i.clone(), slot(&i.name, &mut names)))
            .collect();

        let mut last_use: HashMap<usize, usize> = HashMap::new();
        let mut readers: HashMap<&str, usize> = HashMap::new();
        for node in &graph.nodes {
            for input in node.inputs.iter().filter(|s| !s.is_empty()) {
                *readers.entry(input.as_str()).or_insert(0) += 1;
            }
        }
        for o in &graph.outputs {
            *readers.entry(o.name.as_str()).or_insert(0) += 1;
        }

        let mut steps = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            let build = ops::builder(&node.domain, &node.op_type).expect("checked above");
            let ctx = BuildCtx {
                node,
                opset: model.opset(),
                consts: node
                    .inputs
                    .iter()
                    .map(|n| host.get(n.as_str()).cloned())
                    .collect(),
            };
            let err = |message: String| RuntimeError::Build {
                node: node.name.clone(),
                op: node.op_type.clone(),
                message,
            };
            let op = build(&ctx).map_err(err)?;
            if node.op_type == "Constant"
                && let Some(out) = node.outputs.first()
            {
                let data = ops::generate::constant_data(&ctx).map_err(err)?;
                host.insert(out.clone(), Arc::new(data));
            }
            let step_inputs = node
                .inputs
                .iter()
                .map(|n| (!n.is_empty()).then(|| (slot(n, &mut names), false)))
                .collect();
            let outputs = node
                .outputs
                .iter()
                .map(|n| {
                    (!n.is_empty() && readers.contains_key(n.as_str())).then(|| slot(n, &mut names))
                })
                .collect();
            steps.push(Step {
                name: node.name.clone(),
                op_type: node.op_type.clone(),
                op,
                inputs: step_inputs,
                outputs,
            });
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
