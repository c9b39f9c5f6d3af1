//! Checks of one node against its ONNX schema: the op exists at the model's opset, input and
//! output counts, required inputs present, attribute names, types and required attributes.

use crate::graph::Node;
use crate::schema::{self, A, AttrKind};

/// The newest opset of a standard domain; `None` for other domains.
pub fn max_opset(domain: &str) -> Option<i64> {
    schema::max_opset_of(domain)
}

/// Whether the op exists in a standard domain at any opset.
pub fn is_known_domain(domain: &str) -> bool {
    max_opset(domain).is_some()
}

/// Checks `node` (in a standard domain imported at `opset`) against its schema.
pub fn check_node(node: &Node, domain: &str, opset: i64) -> Result<(), String> {
    let shown = if domain.is_empty() { "ai.onnx" } else { domain };
    let Some(all) = schema::history(domain, &node.op_type) else {
        return Err(format!("`{}` is not an operator of {shown}", node.op_type));
    };
    let Some(schema) = all.iter().rev().find(|s| s.since <= opset) else {
        return Err(format!(
            "`{}` appears in {shown} opset {}, the model imports opset {opset}",
            node.op_type, all[0].since
        ));
    };
    arity("input", &node.inputs, schema.inputs)?;
    arity("output", &node.outputs, schema.outputs)?;
    for (name, value) in &node.attrs {
        let Some(A(_, ty, _)) = schema.attrs.iter().find(|a| a.0 == name) else {
            return Err(format!(
                "attribute `{name}` is not an attribute of {} (opset {})",
                node.op_type, schema.since
            ));
        };
        let kind = AttrKind::from_code(*ty);
        if !kind.admits(value) {
            return Err(format!(
                "attribute `{name}` must be {}, not {}",
                type_name(*ty, kind),
                value.kind()
            ));
        }
    }
    for A(name, _, required) in schema.attrs {
        if *required && !node.attrs.contains_key(*name) {
            return Err(format!("required attribute `{name}` is missing"));
        }
    }
    Ok(())
}

/// Count and presence of inputs or outputs against `(min, max, options)`.
fn arity(
    kind: &str,
    names: &[String],
    (min, max, options): (usize, usize, &str),
) -> Result<(), String> {
    let n = names.len();
    if n < min || n > max {
        let range = match (min, max) {
            (a, b) if a == b => format!("{a}"),
            (a, b) if b >= schema::VARIADIC => format!("at least {a}"),
            (a, b) => format!("{a} to {b}"),
        };
        return Err(format!("has {n} {kind}s, the op takes {range}"));
    }
    for (i, (name, option)) in names.iter().zip(options.chars()).enumerate() {
        if option == 'S' && name.is_empty() {
            return Err(format!("required {kind} #{i} is empty"));
        }
    }
    Ok(())
}

fn type_name(code: i32, kind: AttrKind) -> &'static str {
    match code {
        9 => "tensors",
        10 => "graphs",
        11 | 12 => "a sparse tensor",
        _ if kind == AttrKind::Other => "a type",
        _ => kind.described(),
    }
}
