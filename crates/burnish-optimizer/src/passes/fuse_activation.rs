//! `fuse_activation`: folds an activation into the Conv, Gemm, MatMul or Linear producing its
//! input; the fused kernel (`burnish` domain, see `burnish_runtime::ops::fused`) applies it to
//! the product without a graph node or slot of its own.
//!
//! ```text
//!   x ──> Conv ──> Relu ──> y                  =>  x ──> burnish::FusedConv{Relu} ──> y
//!   x ──> Gemm ──┬─> Sigmoid ──> Mul ──> y     =>  x ──> burnish::FusedGemm{Silu} ──> y
//!                └────────────────^
//! ```
//!
//! A `FusedConv` carrying only a residual (see `fuse_conv_residual`) takes the activation
//! after the sum: `act(Conv(x) + z)`, which is exactly what the unfused graph computes.
//!
//! Activations: Relu, LeakyRelu, Clip (constant bounds), HardSigmoid, HardSwish, Sigmoid, Tanh,
//! Gelu, and SiLU (`x * Sigmoid(x)`). Refuses: the product read elsewhere or a graph output;
//! Clip bounds that are not constant; a producer that already carries an activation. Exact: the
//! same activation kernel runs on the same values.

use burnish_model::domain;
use burnish_model::{Attribute, Model};

use crate::rewrite::{Editor, is_op, rewrite_each, scalar_f32};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FuseActivation;

const ACTIVATIONS: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "Clip",
    "HardSigmoid",
    "HardSwish",
    "Sigmoid",
    "Tanh",
    "Gelu",
];

impl Pass for FuseActivation {
    fn name(&self) -> &'static str {
        "fuse_activation"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |g, j| Ok(fuse_at(g, j).is_some()))
    }
}

fn fusable_producer(g: &Editor, value: &str) -> Option<usize> {
    let i = g.producer(value)?;
    let n = g.node(i);
    let ok = ["Conv", "Gemm", "MatMul"].iter().any(|op| is_op(n, op))
        || ((domain::is_op(n, domain::LINEAR) || domain::is_op(n, domain::FUSED_CONV))
            && !n.attrs.contains_key(domain::ACTIVATION));
    ok.then_some(i)
}

fn fuse_at(g: &mut Editor, j: usize) -> Option<()> {
    let act = g.node(j);
    let (i, name, mut attrs, remove) = if is_op(act, "Mul") {
        let (k, s) = (0..2).find_map(|k| {
            let s = g.producer(act.input(k)?)?;
            let sig = g.node(s);
            (is_op(sig, "Sigmoid") && sig.input(0) == act.input(1 - k)).then_some((k, s))
        })?;
        let y = act.input(1 - k)?;
        let sig_out = act.input(k)?;
        if g.use_count(y) != 2 || g.is_graph_output(y) || !g.single_use(sig_out) {
            return None;
        }
        let i = fusable_producer(g, y)?;
        (i, "Silu".to_string(), Vec::new(), Some(s))
    } else {
        let op = ACTIVATIONS.iter().find(|op| is_op(act, op))?;
        let y = act.input(0)?;
        if !g.single_use(y) {
            return None;
        }
        let i = fusable_producer(g, y)?;
        let mut attrs: Vec<(String, Attribute)> = act
            .attrs
            .iter()
            .map(|(k, v)| (format!("activation_{k}"), v.clone()))
            .collect();
        if *op == "Clip" {
            for (pos, key) in [(1, "activation_min"), (2, "activation_max")] {
                if let Some(bound) = act.input(pos) {
                    let v = scalar_f32(g.constant(bound)?)?;
                    attrs.push((key.to_string(), Attribute::Float(v)));
                }
            }
        } else if act.inputs.iter().filter(|s| !s.is_empty()).count() != 1 {
            return None;
        }
        (i, op.to_string(), attrs, None)
    };
    attrs.push((domain::ACTIVATION.into(), Attribute::String(name)));
    let outputs = g.node(j).outputs.clone();
    g.remove(j);
    if let Some(s) = remove {
        g.remove(s);
    }
    g.edit(i, |node| {
        if !domain::is_burnish(node) {
            node.op_type = format!("Fused{}", node.op_type);
            node.domain = domain::DOMAIN.into();
        }
        node.attrs.extend(attrs);
        node.outputs = outputs;
    });
    Some(())
}
