//! The model checker: what `onnx.checker` would refuse, found before a file is written.
//!
//! [`check`] walks the graph (and every subgraph, at the model's opset) and reports:
//! - a default-domain opset that is missing or newer than the schema table knows,
//! - default-domain ops that do not exist at that opset, or are deprecated there,
//! - input/output counts outside the op version's arity,
//! - attributes the op version does not allow, of the wrong kind, or required and missing,
//! - `QuantizeLinear`/`DequantizeLinear` rules: per-axis scales before opset 13, scale and
//!   zero-point shapes against `axis`, element types of the zero point and of the quantized
//!   input per opset, a zero zero-point for `int32` input,
//! - values read before they are defined, defined twice, or graph outputs nothing defines.
//!
//! Ops outside the default domain (`com.microsoft`, `burnish`) are not checked.

use std::collections::{HashMap, HashSet};

use crate::error::ModelError;
use crate::graph::{Graph, Model, Node};
use crate::schema;
use crate::tensor::TensorData;
use crate::{AttrExt, Attribute, DType};

/// One problem [`check`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// The node, when the problem is a node's.
    pub node: Option<String>,
    /// The node's op type.
    pub op: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.node, &self.op) {
            (Some(n), Some(op)) => write!(f, "node `{n}` ({op}): {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Every problem of `model` (empty when it is valid).
pub fn check(model: &Model) -> Vec<Issue> {
    let mut issues = Vec::new();
    let opset = model.opset();
    if opset < 1 {
        issues.push(plain("the model imports no default-domain (ai.onnx) opset"));
        return issues;
    }
    if opset > schema::max_opset() {
        issues.push(plain(format!(
            "default-domain opset {opset} is newer than the schema table (opset {})",
            schema::max_opset()
        )));
        return issues;
    }
    let mut ck = Checker {
        opset,
        issues: &mut issues,
    };
    ck.graph(&model.graph, &HashSet::new());
    issues
}

/// `Ok` when [`check`] finds nothing; otherwise a [`ModelError::Invalid`] for `path` that
/// lists the first problems.
pub fn ensure_valid(model: &Model, path: &str) -> Result<(), ModelError> {
    let issues = check(model);
    if issues.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = issues.iter().take(5).map(Issue::to_string).collect();
    let more = match issues.len() {
        n if n > 5 => format!(" (and {} more)", n - 5),
        _ => String::new(),
    };
    Err(ModelError::Invalid {
        path: path.to_string(),
        message: format!(
            "not valid at opset {}: {}{more}",
            model.opset(),
            shown.join("; ")
        ),
    })
}

fn plain(message: impl Into<String>) -> Issue {
    Issue {
        node: None,
        op: None,
        message: message.into(),
    }
}

struct Checker<'a> {
    opset: i64,
    issues: &'a mut Vec<Issue>,
}

impl Checker<'_> {
    fn report(&mut self, n: &Node, message: impl Into<String>) {
        self.issues.push(Issue {
            node: Some(n.name.clone()),
            op: Some(n.op_type.clone()),
            message: message.into(),
        });
    }

    fn graph(&mut self, g: &Graph, outer: &HashSet<String>) {
        let mut defined: HashSet<String> = outer.clone();
        defined.extend(g.inputs.iter().map(|v| v.name.clone()));
        defined.extend(g.initializers.keys().cloned());
        let mut own: HashSet<&str> = HashSet::new();
        let mut q_types: HashMap<&str, DType> = HashMap::new();
        for n in &g.nodes {
            for i in n.inputs.iter().filter(|i| !i.is_empty()) {
                if !defined.contains(i) {
                    self.report(n, format!("input `{i}` is read before it is defined"));
                }
            }
            for o in n.outputs.iter().filter(|o| !o.is_empty()) {
                if !own.insert(o) || g.initializers.contains_key(o) {
                    self.report(n, format!("output `{o}` is defined twice"));
                }
            }
            if n.domain.is_empty() || n.domain == "ai.onnx" {
                self.node(g, n, &q_types);
                if n.op_type == "QuantizeLinear"
                    && let Some(o) = n.outputs.first()
                {
                    let t = n
                        .input(2)
                        .and_then(|z| constant(g, z))
                        .map(|z| z.dtype())
                        .unwrap_or(DType::U8);
                    q_types.insert(o, t);
                }
            }
            for sub in n.subgraphs() {
                self.graph(sub, &defined);
            }
            defined.extend(n.outputs.iter().filter(|o| !o.is_empty()).cloned());
        }
        for o in &g.outputs {
            if !defined.contains(&o.name) {
                self.issues.push(plain(format!(
                    "graph `{}`: output `{}` is defined by no node, input or initializer",
                    g.name, o.name
                )));
            }
        }
    }

    fn node(&mut self, g: &Graph, n: &Node, q_types: &HashMap<&str, DType>) {
        let opset = self.opset;
        let Some(s) = schema::lookup(&n.op_type, opset) else {
            self.report(n, format!("no such op at opset {opset}"));
            return;
        };
        if s.deprecated {
            self.report(
                n,
                format!("deprecated since opset {} (the model has {opset})", s.since),
            );
            return;
        }
        let arity = |names: &[String]| {
            let last = names.iter().rposition(|s| !s.is_empty());
            last.map_or(0, |i| i + 1)
        };
        let (ni, no) = (arity(&n.inputs), arity(&n.outputs));
        if ni < s.inputs.0 || ni > s.inputs.1 {
            self.report(
                n,
                format!(
                    "{ni} inputs; {}-{} takes {}",
                    n.op_type,
                    s.since,
                    range(s.inputs.0, s.inputs.1)
                ),
            );
        }
        if no < s.outputs.0.max(1) || no > s.outputs.1 {
            self.report(
                n,
                format!(
                    "{no} outputs; {}-{} gives {}",
                    n.op_type,
                    s.since,
                    range(s.outputs.0, s.outputs.1)
                ),
            );
        }
        for (name, value) in &n.attrs {
            match s.attr(name) {
                None => self.report(
                    n,
                    format!(
                        "attribute `{name}` is not allowed by {}-{} (opset {opset})",
                        n.op_type, s.since
                    ),
                ),
                Some(spec)
                    if spec.kind() != schema::AttrKind::Other && !spec.kind().admits(value) =>
                {
                    self.report(
                        n,
                        format!(
                            "attribute `{name}` is a {}, {:?} expected",
                            value.kind(),
                            spec.kind()
                        ),
                    )
                }
                Some(_) => {}
            }
        }
        for spec in s.attrs.iter().filter(|a| a.required()) {
            if !n.attrs.contains_key(spec.name()) {
                self.report(
                    n,
                    format!("required attribute `{}` is missing", spec.name()),
                );
            }
        }
        if matches!(n.op_type.as_str(), "QuantizeLinear" | "DequantizeLinear") {
            for message in qdq_rules(g, n, opset, q_types) {
                self.report(n, message);
            }
        }
    }
}

fn range(lo: usize, hi: usize) -> String {
    match hi {
        schema::VARIADIC.. => format!("{lo} or more"),
        _ if lo == hi => lo.to_string(),
        _ => format!("{lo} to {hi}"),
    }
}

/// The value of `name` when it is an initializer or a `Constant` node's output.
fn constant<'g>(g: &'g Graph, name: &str) -> Option<&'g TensorData> {
    if let Some(t) = g.initializers.get(name) {
        return Some(t);
    }
    g.nodes
        .iter()
        .find(|n| n.op_type == "Constant" && n.outputs.first().is_some_and(|o| o == name))
        .and_then(|n| match n.attrs.get("value") {
            Some(Attribute::Tensor(t)) => Some(t),
            _ => None,
        })
}

/// The quantized element types a `QuantizeLinear` output / `DequantizeLinear` input may have.
fn quantized_types(opset: i64, dequantize: bool) -> Vec<DType> {
    use DType::*;
    let mut t = vec![U8, I8];
    if dequantize {
        t.push(I32);
    }
    if opset >= 19 {
        t.extend([F8E4M3FN, F8E4M3FNUZ, F8E5M2, F8E5M2FNUZ]);
    }
    if opset >= 21 {
        t.extend([U16, I16, U4, I4]);
    }
    if opset >= 23 {
        t.push(F4E2M1);
    }
    if opset >= 24 {
        t.push(F8E8M0);
    }
    if opset >= 25 {
        t.extend([U2, I2]);
    }
    t
}

fn qdq_rules(g: &Graph, n: &Node, opset: i64, q_types: &HashMap<&str, DType>) -> Vec<String> {
    let mut out = Vec::new();
    let dq = n.op_type == "DequantizeLinear";
    let x = n.input(0).and_then(|x| constant(g, x));
    let scale = n.input(1).and_then(|s| constant(g, s));
    let zp = n.input(2).and_then(|z| constant(g, z));
    let block = n.attrs.int_or("block_size", 0).unwrap_or(0);
    if let Some(s) = scale {
        let floats: &[DType] = if opset >= 19 {
            &[DType::F32, DType::F16, DType::BF16]
        } else {
            &[DType::F32]
        };
        if !floats.contains(&s.dtype()) {
            out.push(format!(
                "scale is {}, opset {opset} allows {floats:?}",
                s.dtype()
            ));
        }
        if opset < 13 && !s.shape.is_empty() && s.len() != 1 {
            out.push(format!(
                "scale of shape {:?}: per-axis quantization needs opset 13 (the model has {opset})",
                s.shape
            ));
        }
        if let Some(z) = zp
            && z.shape != s.shape
        {
            out.push(format!(
                "zero point of shape {:?} and scale of shape {:?} differ",
                z.shape, s.shape
            ));
        }
    }
    let allowed = quantized_types(opset, dq);
    let zt = zp.map(TensorData::dtype);
    if let Some(t) = zt.filter(|t| !allowed.contains(t)) {
        out.push(format!(
            "zero point is {t}, not a quantized type of opset {opset}"
        ));
    }
    if dq {
        let xt = x
            .map(TensorData::dtype)
            .or_else(|| n.input(0).and_then(|i| q_types.get(i).copied()));
        if let Some(t) = xt.filter(|t| !allowed.contains(t)) {
            out.push(format!(
                "input is {t}, not a quantized type of opset {opset}"
            ));
        }
        if let (Some(a), Some(b)) = (xt, zt)
            && a != b
        {
            out.push(format!("input is {a} but its zero point is {b}"));
        }
        if xt == Some(DType::I32)
            && zp.is_some_and(|z| z.to_i64_vec().is_some_and(|v| v.iter().any(|&v| v != 0)))
        {
            out.push("int32 input with a non-zero zero point".into());
        }
    }
    let Some(x) = x else {
        return out;
    };
    let Some(s) = scale.filter(|s| !(s.shape.is_empty() || (opset < 13 && s.len() == 1))) else {
        return out;
    };
    let rank = x.shape.len() as i64;
    let axis = n.attrs.int_or("axis", 1).unwrap_or(1);
    if axis < -rank || axis >= rank {
        out.push(format!(
            "axis {axis} out of range for an input of rank {rank}"
        ));
        return out;
    }
    let ax = axis.rem_euclid(rank.max(1)) as usize;
    if block > 0 {
        let want = x.shape[ax].div_ceil(block as usize);
        if s.shape.get(ax) != Some(&want) || s.shape.len() != x.shape.len() {
            out.push(format!(
                "blocked scale of shape {:?} does not fit input {:?} (axis {axis}, block {block})",
                s.shape, x.shape
            ));
        }
    } else if s.shape.len() != 1 || s.shape[0] != x.shape[ax] {
        out.push(format!(
            "per-axis scale of shape {:?} does not fit input {:?} along axis {axis}",
            s.shape, x.shape
        ));
    }
    out
}

#[cfg(test)]
mod tests;
