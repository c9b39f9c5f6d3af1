//! `fuse_matmul_add`: turns a MatMul by a constant matrix followed by a constant bias Add into
//! one linear op.
//!
//! ```text
//!   x ──> MatMul(W[K,N]) ──> Add(b[N]) ──> y
//!   =>  x ──> Gemm(W, b) ──> y              when x is 2-D in every probe run
//!   =>  x ──> burnish::Linear(W, b) ──> y   otherwise
//! ```
//!
//! The fused node keeps the MatMul's name. Refuses: MatMul output read elsewhere or a graph
//! output; a weight that is not a constant f32 matrix; a bias that is not constant f32 of shape
//! `[N]` or `[1, N]`. Exact: the same products and sums in the same order.

use burnish_model::Model;
use burnish_model::domain;

use crate::rewrite::{Editor, absorb, is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct FuseMatmulAdd;

impl Pass for FuseMatmulAdd {
    fn name(&self) -> &'static str {
        "fuse_matmul_add"
    }

    fn run(
        &self,
        model: &mut Model,
        _: &PassContext,
        cache: &ProbeCache,
    ) -> Result<usize, OptError> {
        let any = {
            let ed = Editor::new(&mut model.graph);
            (0..ed.len()).any(|j| candidate(&ed, j).is_some())
        };
        if !any {
            return Ok(0);
        }
        let probe = cache.get(model);
        rewrite_each(&mut model.graph, |g, j| {
            let Some((i, k)) = candidate(g, j) else {
                return Ok(false);
            };
            let x = g.node(i).inputs[0].clone();
            let two_d = probe.as_ref().and_then(|p| p.rank(&x)) == Some(2);
            let bias = g.node(j).inputs[1 - k].clone();
            g.edit(i, |node| {
                node.inputs.push(bias);
                if two_d {
                    node.op_type = "Gemm".into();
                } else {
                    node.op_type = domain::LINEAR.into();
                    node.domain = domain::DOMAIN.into();
                }
            });
            absorb(g, i, j);
            Ok(true)
        })
    }
}

/// `(matmul index, position of the MatMul output among the Add inputs)`.
fn candidate(g: &Editor, j: usize) -> Option<(usize, usize)> {
    let add = g.node(j);
    if !is_op(add, "Add") {
        return None;
    }
    (0..2).find_map(|k| {
        let m = add.input(k)?;
        let i = g.producer(m)?;
        let mm = g.node(i);
        if !is_op(mm, "MatMul") || !g.single_use(m) || mm.input(0).is_none() {
            return None;
        }
        let w = g.constant(mm.input(1)?)?;
        let b = g.constant(add.input(1 - k)?)?;
        let n = *w.shape.get(1)?;
        let bias_ok = b.as_f32().is_some() && (b.shape == [n] || b.shape == [1, n]);
        (w.shape.len() == 2 && w.as_f32().is_some() && bias_ok).then_some((i, k))
    })
}
