//! Raising the default-domain opset for the ops the quantizer writes: per-axis
//! `DequantizeLinear` needs 13, blocked (`block_size`) needs 21.
//!
//! From 13 up, the only signature change the quantized graphs meet is at 18: reductions other
//! than `ReduceSum` take `axes` as an input instead of an attribute; they are rewritten.

use std::sync::Arc;

use burnish_model::{AttrExt, Model, TensorData};

use crate::QuantError;
use crate::util::Namer;

/// Raises `model`'s default opset to at least `to`; errors below 13.
pub fn raise(model: &mut Model, to: i64, why: &str) -> Result<(), QuantError> {
    let from = model.opset();
    if from >= to {
        return Ok(());
    }
    if from < 13 {
        return Err(QuantError::Opset {
            mode: why.to_string(),
            need: to,
            have: from,
        });
    }
    if from < 18 && to >= 18 {
        let g = &mut model.graph;
        let mut namer = Namer::new(g);
        for n in g.nodes.iter_mut() {
            let reduce = n.op_type.starts_with("Reduce") && n.op_type != "ReduceSum";
            if !reduce || !n.domain.is_empty() {
                continue;
            }
            if let Ok(Some(axes)) = n.attrs.ints_opt("axes") {
                n.attrs.remove("axes");
                let name = namer.fresh(&format!("{}_axes", n.name));
                let len = axes.len();
                g.initializers.insert(
                    name.clone(),
                    Arc::new(TensorData::from_i64(vec![len], axes)),
                );
                n.inputs.truncate(1);
                n.inputs.push(name);
            }
        }
    }
    model.opsets.insert(String::new(), to);
    Ok(())
}
