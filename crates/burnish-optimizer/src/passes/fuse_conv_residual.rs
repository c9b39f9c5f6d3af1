//! `fuse_conv_residual`: folds the residual Add after a Conv into the conv kernel, so the sum
//! (and an activation that `fuse_activation` folds next) is applied in the conv's epilogue.
//!
//! ```text
//!   x ──> Conv(W, b) ──> Add ──> y          =>  x, z ──> burnish::FusedConv(W, b, z) ──> y
//!   z ─────────────────────^
//!   (then Relu(y) becomes FusedConv{activation = Relu}: act(Conv(x, W, b) + z))
//! ```
//!
//! The fused node keeps the Conv's name and takes the Add's place in the node order (where both
//! `x` and `z` are defined). When both Add inputs come from Convs, the first one is fused.
//! Refuses: a Conv output read elsewhere or a graph output; a Conv that already carries an
//! activation or a residual; `z` not of exactly the Conv output's shape in every probe run (no
//! broadcasting) or not f32, which also refuses constant `z` (per-channel constants are
//! `fold_conv_add_mul`'s). Exact: the same sum of the same values, in the same order.

use burnish_model::domain;
use burnish_model::{DType, Model, Node};

use crate::probe::Probe;
use crate::rewrite::{Editor, is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FuseConvResidual;

impl Pass for FuseConvResidual {
    fn name(&self) -> &'static str {
        "fuse_conv_residual"
    }

    fn run(
        &self,
        model: &mut Model,
        _: &PassContext,
        cache: &ProbeCache,
    ) -> Result<usize, OptError> {
        let any = {
            let ed = Editor::new(&mut model.graph);
            (0..ed.len()).any(|j| !candidates(&ed, j).is_empty())
        };
        if !any {
            return Ok(0);
        }
        let Some(probe) = cache.get(model) else {
            return Ok(0);
        };
        rewrite_each(&mut model.graph, |g, j| Ok(fuse_at(g, j, &probe).is_some()))
    }
}

/// A Conv, or a FusedConv with neither activation nor residual.
fn plain_conv(n: &Node) -> bool {
    is_op(n, "Conv")
        || (domain::is_op(n, domain::FUSED_CONV)
            && !n.attrs.contains_key(domain::ACTIVATION)
            && n.input(domain::FUSED_CONV_RESIDUAL).is_none())
}

/// `(conv index, residual)` pairs for the Add at `j`, before the shape checks.
fn candidates(g: &Editor, j: usize) -> Vec<(usize, String)> {
    let add = g.node(j);
    if !is_op(add, "Add") || add.inputs.len() != 2 {
        return Vec::new();
    }
    (0..2)
        .filter_map(|k| {
            let (c, z) = (add.input(k)?, add.input(1 - k)?);
            let i = g.producer(c)?;
            (i < j && plain_conv(g.node(i)) && g.single_use(c) && c != z)
                .then(|| (i, z.to_string()))
        })
        .collect()
}

fn fuse_at(g: &mut Editor, j: usize, probe: &Probe) -> Option<()> {
    let (i, z) = candidates(g, j).into_iter().find(|(i, z)| {
        let c = &g.node(*i).outputs[0];
        probe.same_shape(c, z)
            && probe.dtype(c) == Some(DType::F32)
            && probe.dtype(z) == Some(DType::F32)
    })?;
    let outputs = g.node(j).outputs.clone();
    let mut conv = g.node(i).clone();
    g.remove(i);
    conv.op_type = domain::FUSED_CONV.into();
    conv.domain = domain::DOMAIN.into();
    conv.inputs.resize(3, String::new());
    conv.inputs.push(z);
    conv.outputs = outputs;
    g.replace(j, conv);
    Some(())
}
