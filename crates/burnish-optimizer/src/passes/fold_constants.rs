//! `fold_constants`: executes nodes whose inputs are all constants and stores their outputs as
//! initializers.
//!
//! ```text
//!   W (initializer) ──> Transpose ──> W'        =>   W' (initializer)
//!   Constant ──> c                              =>   c (initializer)
//! ```
//!
//! Each node runs through the interpreter (a one-node session), so folding computes exactly
//! what the unoptimized model computes at run time. Refuses: nodes with subgraphs, ops the
//! runtime does not support, nodes that fail to run, outputs that are graph outputs, and
//! outputs larger than `max_fold_bytes` that would also grow the model (`ConstantOfShape`,
//! `Expand`, `Tile` of big shapes). Exact.
//!
//! `DequantizeLinear` is never folded: a dequantized constant is how a quantized model stores
//! its weights (int8 codes, a quarter of the float bytes), and the int8 lowering
//! (`burnish_quant::lower_qdq`) needs the codes to run the op on integer kernels.

use std::collections::BTreeMap;

use burnish_model::{Attribute, Graph, Model, ValueInfo};
use burnish_runtime::{Session, SessionOptions, supports_op};

use crate::rewrite::{Editor, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FoldConstants;

impl Pass for FoldConstants {
    fn name(&self) -> &'static str {
        "fold_constants"
    }

    fn run(&self, model: &mut Model, ctx: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        let opsets = model.opsets.clone();
        let ir_version = model.ir_version;
        rewrite_each(&mut model.graph, |ed, i| {
            Ok(fold_node(ed, i, &opsets, ir_version, ctx.max_fold_bytes))
        })
    }
}

fn fold_node(
    g: &mut Editor,
    i: usize,
    opsets: &BTreeMap<String, i64>,
    ir_version: i64,
    max_bytes: usize,
) -> bool {
    let node = g.node(i);
    let present: Vec<&String> = node.inputs.iter().filter(|s| !s.is_empty()).collect();
    if (present.is_empty() && node.op_type != "Constant")
        || node.op_type == "DequantizeLinear"
        || node
            .attrs
            .values()
            .any(|a| matches!(a, Attribute::Graph(_)))
        || !supports_op(&node.domain, &node.op_type)
        || node.outputs.iter().any(|o| g.is_graph_output(o))
    {
        return false;
    }
    let mut initializers = BTreeMap::new();
    for name in &present {
        match g.constant(name) {
            Some(t) => initializers.insert((*name).clone(), t.clone()),
            None => return false,
        };
    }
    let in_bytes: usize = initializers.values().map(|t| t.byte_size()).sum();
    let outputs: Vec<String> = node
        .outputs
        .iter()
        .filter(|o| !o.is_empty())
        .cloned()
        .collect();
    let mini = Model {
        graph: Graph {
            name: "fold".into(),
            initializers,
            nodes: vec![node.clone()],
            outputs: outputs
                .iter()
                .map(|o| ValueInfo {
                    name: o.clone(),
                    dtype: None,
                    shape: None,
                })
                .collect(),
            ..Graph::default()
        },
        opsets: opsets.clone(),
        ir_version,
        ..Model::default()
    };
    let Ok(session) = Session::new(&mini, SessionOptions::threads(None)) else {
        return false;
    };
    let Ok(values) = session.run(&BTreeMap::new()) else {
        return false;
    };
    let out_bytes: usize = values.values().map(|t| t.byte_size()).sum();
    if out_bytes > max_bytes && out_bytes > in_bytes {
        return false;
    }
    g.remove(i);
    for (name, t) in values {
        g.set_initializer(name, std::sync::Arc::new(t));
    }
    true
}
