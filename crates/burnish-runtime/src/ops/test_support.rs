//! Shared by the op families' unit tests: build one node and run it on host tensors.

use std::collections::HashMap;

use burnish_model::{Attribute, Node, TensorData};

use super::{BuildCtx, Inputs, builder};
use crate::value::Value;

/// Builds `domain::op` with `attrs` at `opset` (outputs `y`, `z`) and runs it on `inputs`
/// (`None`: an omitted optional input).
pub(crate) fn run_node(
    domain: &str,
    op: &str,
    attrs: &[(&str, Attribute)],
    opset: i64,
    inputs: Vec<Option<TensorData>>,
) -> Result<Vec<Value>, String> {
    let node = Node {
        name: "n".into(),
        op_type: op.into(),
        domain: domain.into(),
        inputs: (0..inputs.len()).map(|i| format!("i{i}")).collect(),
        outputs: vec!["y".into(), "z".into()],
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    let build = builder(domain, op).ok_or("unregistered")?;
    let built = build(&BuildCtx::new(&node, opset, &HashMap::new()))?;
    let values = inputs
        .iter()
        .map(|t| t.as_ref().map(Value::upload).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    built.run(Inputs::new(values))
}
