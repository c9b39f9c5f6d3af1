//! Import validation, ONNX-checker grade: every model is checked when it is loaded, before
//! any command runs it, so an invalid model fails with the file, the node and the attribute
//! named instead of failing (or being accepted) somewhere later.
//!
//! Checked: the IR version and opset ranges; duplicate graph inputs and outputs; every node of
//! a standard domain against its ONNX schema (the op exists at the imported opset, input and
//! output counts, required inputs present, attribute names, types and required attributes);
//! attribute ranges and consistency of the common op families (convolutions and pools,
//! recurrent ops, modes and enums, axes against known ranks). Element types of graph values
//! are checked while decoding (`onnx::import`). Every check is local, so validation is linear
//! in the model size.

mod axes;
mod containers;
mod control;
mod conv;
mod known;
mod modes;
mod rnn;
mod schema;

use std::collections::HashSet;

use crate::error::ModelError;
use crate::graph::{Graph, Model, Node};

pub use crate::schema::IR_VERSION;
pub use known::Known;

/// Largest value of a size-like attribute (kernel, stride, pad, dilation, hidden size, ...):
/// anything larger overflows the arithmetic of every backend.
pub const MAX_DIM: i64 = i32::MAX as i64;

/// The newest opset burnish knows for a standard domain (`""`, `ai.onnx.ml`, ...).
pub fn max_opset(domain: &str) -> Option<i64> {
    schema::max_opset(domain)
}

/// Validates a decoded model; `label` names the file in errors.
pub fn check_model(model: &Model, label: &str) -> Result<(), ModelError> {
    let invalid = |message: String| ModelError::Invalid {
        path: label.to_string(),
        message,
    };
    if !(1..=IR_VERSION).contains(&model.ir_version) {
        return Err(invalid(format!(
            "IR version {} is outside the versions burnish knows (1 to {IR_VERSION})",
            model.ir_version
        )));
    }
    for (domain, &version) in &model.opsets {
        let shown = if domain.is_empty() { "ai.onnx" } else { domain };
        let newest = max_opset(domain).unwrap_or(i64::MAX);
        if !(1..=newest).contains(&version) {
            let range = match max_opset(domain) {
                Some(n) => format!("1 to {n}"),
                None => "positive".into(),
            };
            return Err(invalid(format!(
                "opset {version} of domain `{shown}` is outside the opsets burnish knows ({range})"
            )));
        }
    }
    if let Err((index, message)) = containers::check(&model.graph) {
        let node = &model.graph.nodes[index];
        return Err(ModelError::Node {
            path: label.to_string(),
            node: node.name.clone(),
            op: node.op_type.clone(),
            message,
        });
    }
    Checker { model, label }.graph(&model.graph)
}

struct Checker<'m> {
    model: &'m Model,
    label: &'m str,
}

impl Checker<'_> {
    fn graph(&self, g: &Graph) -> Result<(), ModelError> {
        let invalid = |message: String| ModelError::Invalid {
            path: self.label.to_string(),
            message,
        };
        let mut seen = HashSet::new();
        for i in &g.inputs {
            if !seen.insert(i.name.as_str()) {
                return Err(invalid(format!("graph input `{}` is listed twice", i.name)));
            }
        }
        let mut seen = HashSet::new();
        for o in &g.outputs {
            if !seen.insert(o.name.as_str()) {
                return Err(invalid(format!(
                    "graph output `{}` is listed twice",
                    o.name
                )));
            }
        }
        let known = Known::new(g);
        for node in &g.nodes {
            self.node(node, &known)
                .map_err(|message| ModelError::Node {
                    path: self.label.to_string(),
                    node: node.name.clone(),
                    op: node.op_type.clone(),
                    message,
                })?;
            for sub in node.subgraphs() {
                self.graph(sub)?;
            }
        }
        Ok(())
    }

    fn node(&self, node: &Node, known: &Known) -> Result<(), String> {
        let domain = node.domain.as_str();
        let Some(&opset) = self.model.opsets.get(domain) else {
            let shown = if domain.is_empty() { "ai.onnx" } else { domain };
            return Err(format!("the model imports no opset of domain `{shown}`"));
        };
        if !schema::is_known_domain(domain) {
            return Ok(());
        }
        schema::check_node(node, domain, opset)?;
        if !domain.is_empty() {
            return Ok(());
        }
        control::check(node)?;
        conv::check(node, known)?;
        rnn::check(node, known)?;
        modes::check(node, known, opset)?;
        axes::check(node, known)
    }
}

/// An attribute error message: `attribute `name` ...`.
fn attr_err(name: &str, message: impl std::fmt::Display) -> String {
    format!("attribute `{name}` {message}")
}

/// Checks that every value of an int-list attribute is in `lo..=MAX_DIM`.
fn ints_in_range(node: &Node, name: &str, lo: i64) -> Result<Option<Vec<i64>>, String> {
    let Some(values) = ints(node, name)? else {
        return Ok(None);
    };
    if let Some(v) = values.iter().find(|v| !(lo..=MAX_DIM).contains(*v)) {
        return Err(attr_err(
            name,
            format!("holds {v}; values must be between {lo} and {MAX_DIM}"),
        ));
    }
    Ok(Some(values))
}

/// An int-list attribute (type checked by the schema).
fn ints(node: &Node, name: &str) -> Result<Option<Vec<i64>>, String> {
    match node.attrs.get(name) {
        None => Ok(None),
        Some(crate::Attribute::Ints(v)) => Ok(Some(v.clone())),
        Some(other) => Err(attr_err(
            name,
            format!("must be ints, not {}", other.kind()),
        )),
    }
}

/// An int attribute (type checked by the schema).
fn int(node: &Node, name: &str) -> Option<i64> {
    match node.attrs.get(name) {
        Some(crate::Attribute::Int(v)) => Some(*v),
        _ => None,
    }
}

/// A string attribute (type checked by the schema).
fn string<'n>(node: &'n Node, name: &str) -> Option<&'n str> {
    match node.attrs.get(name) {
        Some(crate::Attribute::String(v)) => Some(v),
        _ => None,
    }
}

/// Checks a string attribute against its allowed values.
fn one_of(node: &Node, name: &str, allowed: &[&str]) -> Result<(), String> {
    match string(node, name) {
        Some(v) if !allowed.contains(&v) => Err(attr_err(
            name,
            format!("is `{v}`; it must be one of {}", allowed.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// Checks an int attribute against a range.
fn int_in(node: &Node, name: &str, range: std::ops::RangeInclusive<i64>) -> Result<(), String> {
    match int(node, name) {
        Some(v) if !range.contains(&v) => Err(attr_err(
            name,
            format!(
                "is {v}; it must be between {} and {}",
                range.start(),
                range.end()
            ),
        )),
        _ => Ok(()),
    }
}
