//! `canonicalize_sum`: a `Sum` of two inputs becomes the `Add` it is.
//!
//! ```text
//!   a, b ──> Sum ──> y      =>   a, b ──> Add ──> y
//! ```
//!
//! Exporters (Caffe2, older PyTorch) write residual additions as `Sum`; every pattern that
//! looks for a residual `Add` (conv residual fusion, the int8 lowering's residual `QConv`,
//! the quantizers' layouts) then finds it. Refuses: one or three or more inputs, a node in
//! another domain. Exact: both ops broadcast alike (opset 8+) and add in float the same way.

use burnish_model::Model;

use crate::rewrite::{is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct CanonicalizeSum;

impl Pass for CanonicalizeSum {
    fn name(&self) -> &'static str {
        "canonicalize_sum"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |ed, i| {
            let n = ed.node(i);
            if !is_op(n, "Sum") || n.inputs.len() != 2 {
                return Ok(false);
            }
            ed.edit(i, |n| n.op_type = "Add".into());
            Ok(true)
        })
    }
}
