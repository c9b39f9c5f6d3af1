//! Checks of one node against its ONNX schema: the op exists at the model's opset, input and
//! output counts, required inputs present, attribute names, types and required attributes.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::schemas::{MAX_OPSET, SCHEMAS};
use crate::attr::Attribute;
use crate::graph::Node;

/// One version of an op: `inputs`/`outputs` are `(min, max, options)` where `options` has one
/// letter per formal parameter: `S` single (required), `O` optional, `V` variadic.
#[derive(Debug)]
pub struct Schema {
    /// Domain (`""` is the default ONNX domain).
    pub domain: &'static str,
    /// Op type.
    pub op: &'static str,
    /// First opset of this version.
    pub since: i64,
    /// Input count range and options.
    pub inputs: (usize, usize, &'static str),
    /// Output count range and options.
    pub outputs: (usize, usize, &'static str),
    /// Attributes: name, ONNX `AttributeProto.AttributeType` code, required.
    pub attrs: &'static [A],
}

/// An attribute of a schema: name, ONNX attribute type code, required.
#[derive(Debug)]
pub struct A(pub &'static str, pub i32, pub bool);

/// The newest opset of a standard domain; `None` for other domains.
pub fn max_opset(domain: &str) -> Option<i64> {
    MAX_OPSET
        .iter()
        .find(|(d, _)| *d == domain)
        .map(|(_, v)| *v)
}

/// `(domain, op)` -> the range of its versions in [`SCHEMAS`].
type SchemaIndex = HashMap<(&'static str, &'static str), (usize, usize)>;

/// The schema versions of `(domain, op)`, oldest first; `None` when ONNX has no such op.
fn versions(domain: &str, op: &str) -> Option<&'static [Schema]> {
    static INDEX: OnceLock<SchemaIndex> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut map: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
        for (i, s) in SCHEMAS.iter().enumerate() {
            map.entry((s.domain, s.op))
                .and_modify(|r| r.1 = i + 1)
                .or_insert((i, i + 1));
        }
        map
    });
    index.get(&(domain, op)).map(|&(a, b)| &SCHEMAS[a..b])
}

/// Whether the op exists in a standard domain at any opset.
pub fn is_known_domain(domain: &str) -> bool {
    max_opset(domain).is_some()
}

/// Checks `node` (in a standard domain imported at `opset`) against its schema.
pub fn check_node(node: &Node, domain: &str, opset: i64) -> Result<(), String> {
    let shown = if domain.is_empty() { "ai.onnx" } else { domain };
    let Some(all) = versions(domain, &node.op_type) else {
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
        if !type_fits(*ty, value) {
            return Err(format!(
                "attribute `{name}` must be {}, not {}",
                type_name(*ty),
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
            (a, b) if b >= i32::MAX as usize => format!("at least {a}"),
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

fn type_fits(code: i32, value: &Attribute) -> bool {
    matches!(
        (code, value),
        (1, Attribute::Float(_))
            | (2, Attribute::Int(_))
            | (3, Attribute::String(_))
            | (4, Attribute::Tensor(_))
            | (5, Attribute::Graph(_))
            | (6, Attribute::Floats(_))
            | (7, Attribute::Ints(_))
            | (8, Attribute::Strings(_))
            | (13, Attribute::Type(_))
    )
}

fn type_name(code: i32) -> &'static str {
    match code {
        1 => "a float",
        2 => "an int",
        3 => "a string",
        4 => "a tensor",
        5 => "a graph",
        6 => "floats",
        7 => "ints",
        8 => "strings",
        9 => "tensors",
        10 => "graphs",
        11 | 12 => "a sparse tensor",
        _ => "a type",
    }
}
