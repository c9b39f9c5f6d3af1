//! MACs per node of a run: the one place that maps a profiled run's steps to
//! [`burnish_model::cost::node_macs`] (used by `inspect`, `profile`, the quantizer's report and
//! the int8 inspection).
//!
//! ```no_run
//! use burnish_runtime::SessionOptions;
//! use burnish_runtime::macs::step_macs;
//!
//! let model = burnish_model::load_onnx("model.onnx")?;
//! let inputs = burnish_model::read_tensors("inputs.npz")?;
//! let total: u64 = step_macs(&model, SessionOptions::default(), &inputs)?
//!     .iter()
//!     .map(|s| s.macs)
//!     .sum();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use burnish_model::cost::node_macs;
use burnish_model::{Attributes, Model, Node, TensorData};

use crate::RuntimeError;
use crate::session::{NodeTiming, Session, SessionOptions};

/// MACs of one step of a run (a node, or several fused nodes named after the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepMacs {
    /// Name of the step's (first) node.
    pub name: String,
    /// Op type of the step as run (`Conv+Relu` for a chain, `QConv` after QDQ lowering).
    pub op_type: String,
    /// Multiply-accumulates of one run.
    pub macs: u64,
}

/// Counts the MACs of a model's profiled steps, looking up each step's node for its
/// attributes and for the shapes of constants the op packed at build time.
pub struct MacCounter<'m> {
    model: &'m Model,
    nodes: HashMap<&'m str, &'m Node>,
    empty: Attributes,
}

impl<'m> MacCounter<'m> {
    /// Indexes the nodes of `model`.
    pub fn new(model: &'m Model) -> Self {
        let nodes = model
            .graph
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n))
            .collect();
        MacCounter {
            model,
            nodes,
            empty: Attributes::new(),
        }
    }

    /// MACs of one step given the shapes seen at run time; an input with no shape (a constant
    /// the op packed when the session was built) takes its initializer's shape. `None` when
    /// the op has no MAC formula.
    pub fn macs(
        &self,
        name: &str,
        op_type: &str,
        inputs: &[Vec<usize>],
        outputs: &[Vec<usize>],
    ) -> Option<u64> {
        let node = self.nodes.get(name);
        let attrs = node.map_or(&self.empty, |n| &n.attrs);
        let constant_shape = |i: usize| {
            node.and_then(|n| n.input(i))
                .and_then(|v| self.model.graph.initializers.get(v))
                .map(|c| c.shape.clone())
        };
        let filled: Vec<Vec<usize>>;
        let inputs = if inputs.iter().any(Vec::is_empty) {
            filled = inputs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if s.is_empty() {
                        constant_shape(i).unwrap_or_default()
                    } else {
                        s.clone()
                    }
                })
                .collect();
            &filled
        } else {
            inputs
        };
        node_macs(op_type, attrs, inputs, outputs)
    }

    /// MACs of one profiled step.
    pub fn timing(&self, t: &NodeTiming) -> Option<u64> {
        self.macs(&t.name, &t.op_type, &t.input_shapes, &t.output_shapes)
    }
}

/// Runs `model` once, profiled, on `inputs` and returns the MACs of every step whose op has
/// a MAC formula, in run order.
pub fn step_macs(
    model: &Model,
    options: SessionOptions,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<Vec<StepMacs>, RuntimeError> {
    let session = Session::new(model, options)?;
    let values = session.prepare_inputs(inputs)?;
    let (_, timings) = session.run_profiled(values)?;
    let counter = MacCounter::new(model);
    Ok(timings
        .into_iter()
        .filter_map(|t| {
            let macs = counter.timing(&t)?;
            Some(StepMacs {
                name: t.name,
                op_type: t.op_type,
                macs,
            })
        })
        .collect())
}
