//! `Optional` (wrap a tensor or sequence, or make an empty optional), `OptionalHasElement` and
//! `OptionalGetElement` (which, from opset 18, also take plain tensors and sequences).

use burnish_model::{Buffer, TensorData};

use crate::ops::{BuildCtx, Op, op};
use crate::value::Value;

/// `Optional(input?; type)`: the input wrapped as a full optional, or with no input an empty
/// one. The `type` attribute (needed without an input) only types the graph: an empty
/// optional value carries no element type.
pub fn optional(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let has_input = ctx.node.inputs.first().is_some_and(|n| !n.is_empty());
    if !has_input && !ctx.node.attrs.contains_key("type") {
        return Err("Optional without an input needs the `type` attribute".into());
    }
    op(|mut ins| match ins.opt(0) {
        None => Ok(vec![Value::Optional(None)]),
        Some(Value::Optional(_)) => {
            Err("Optional takes a tensor or a sequence, found an optional".into())
        }
        Some(v) => Ok(vec![Value::Optional(Some(Box::new(v)))]),
    })
}

/// `OptionalHasElement(input?)`: a bool scalar, false for an empty optional or a missing
/// input, true for a full optional, a tensor or a sequence.
pub fn optional_has_element(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| {
        let has = match ins.opt(0) {
            None | Some(Value::Optional(None)) => false,
            Some(_) => true,
        };
        let t = TensorData::new(vec![], Buffer::Bool(vec![has])).map_err(|e| e.to_string())?;
        Ok(vec![Value::upload(&t)?])
    })
}

/// `OptionalGetElement(input)`: the value inside a full optional; a tensor or a sequence
/// passes through. An empty optional is an error.
pub fn optional_get_element(_: &BuildCtx) -> Result<Box<dyn Op>, String> {
    op(|mut ins| match ins.take(0)? {
        Value::Optional(Some(v)) => Ok(vec![*v]),
        Value::Optional(None) => Err("OptionalGetElement: the optional input is empty".into()),
        other => Ok(vec![other]),
    })
}
