//! `cancel_transposes`: composes back-to-back layout ops.
//!
//! ```text
//!   x ──> Transpose(p1) ──> Transpose(p2) ──> y   =>  x ──> Transpose(p1∘p2) ──> y
//!                                                     (Identity when p1∘p2 is the identity)
//!   x ──> Reshape(s1) ──> Reshape(s2) ──> y       =>  x ──> Reshape(s2) ──> y
//! ```
//!
//! The first node stays if it has other readers (`eliminate_dead_nodes` removes it otherwise).
//! Refuses: Transposes without an explicit `perm`; a second Reshape whose shape is not constant
//! or holds a `0` (which copies a dim of the intermediate value). Exact.

use burnish_model::{AttrExt, Attribute, Model};

use crate::rewrite::{is_op, rewrite_each};
use crate::{OptError, Pass, PassContext, ProbeCache};

/// See the module documentation.
pub struct CancelTransposes;

impl Pass for CancelTransposes {
    fn name(&self) -> &'static str {
        "cancel_transposes"
    }

    fn run(&self, model: &mut Model, _: &PassContext, _: &ProbeCache) -> Result<usize, OptError> {
        rewrite_each(&mut model.graph, |ed, j| {
            let second = ed.node(j);
            let is_t = is_op(second, "Transpose");
            if !is_t && !is_op(second, "Reshape") {
                return Ok(false);
            }
            let Some(i) = second.input(0).and_then(|x| ed.producer(x)) else {
                return Ok(false);
            };
            let first = ed.node(i);
            if first.op_type != second.op_type || first.domain != second.domain {
                return Ok(false);
            }
            let Some(x) = first.input(0).map(str::to_string) else {
                return Ok(false);
            };
            if is_t {
                let (Ok(Some(p1)), Ok(Some(p2))) =
                    (first.attrs.ints_opt("perm"), second.attrs.ints_opt("perm"))
                else {
                    return Ok(false);
                };
                if p1.len() != p2.len() {
                    return Ok(false);
                }
                let composed: Option<Vec<i64>> =
                    p2.iter().map(|&k| p1.get(k as usize).copied()).collect();
                let Some(composed) = composed else {
                    return Ok(false);
                };
                ed.edit(j, |node| {
                    node.inputs[0] = x;
                    if composed.iter().enumerate().all(|(k, &p)| p == k as i64) {
                        node.op_type = "Identity".into();
                        node.attrs.clear();
                    } else {
                        node.attrs.insert("perm".into(), Attribute::Ints(composed));
                    }
                });
                return Ok(true);
            }
            let Some(shape) = second.input(1).and_then(|s| ed.constant(s)) else {
                return Ok(false);
            };
            if shape.to_i64_vec().is_none_or(|v| v.contains(&0)) {
                return Ok(false);
            }
            ed.edit(j, |node| node.inputs[0] = x);
            Ok(true)
        })
    }
}
