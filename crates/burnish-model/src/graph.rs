//! The burnish graph IR: an ONNX-shaped graph of named values and nodes.
//!
//! The IR mirrors ONNX rather than any backend: nodes keep their ONNX op type, domain, original
//! name and attributes, values are referred to by name, and initializers are plain host tensors.
//! The runtime compiles this into an execution plan; the optimizer rewrites it; the exporter writes
//! it back to ONNX.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::DType;
use crate::attr::Attributes;
use crate::tensor::TensorData;

/// One dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size.
    Fixed(usize),
    /// A named symbolic size (`batch`, `sequence`).
    Symbolic(String),
    /// Unknown (no value, no name, or `-1`).
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => f.write_str(s),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// Declared type of a graph input, output or intermediate value.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    /// The value's name.
    pub name: String,
    /// Element type, when declared.
    pub dtype: Option<DType>,
    /// Shape, when declared (rank known).
    pub shape: Option<Vec<Dim>>,
}

impl ValueInfo {
    /// Shape as text: `[batch, 3, 224, 224]`, or `?` when the rank is unknown.
    pub fn shape_string(&self) -> String {
        match &self.shape {
            None => "?".to_string(),
            Some(dims) => {
                let parts: Vec<String> = dims.iter().map(Dim::to_string).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
}

/// One operator application.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node name as authored in the ONNX file (`<op_type>_<index>` when the file had none).
    pub name: String,
    /// ONNX op type (`Conv`, `MatMul`, ...).
    pub op_type: String,
    /// Operator domain (`""` for the default ONNX domain).
    pub domain: String,
    /// Input value names; `""` marks an omitted optional input.
    pub inputs: Vec<String>,
    /// Output value names; `""` marks an omitted optional output.
    pub outputs: Vec<String>,
    /// Attributes by name.
    pub attrs: Attributes,
}

impl Node {
    /// The input at `index`, or `None` when absent or omitted.
    pub fn input(&self, index: usize) -> Option<&str> {
        self.inputs
            .get(index)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// A graph: inputs, outputs, initializers and topologically ordered nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Graph name.
    pub name: String,
    /// Runtime inputs (initializers are not listed here).
    pub inputs: Vec<ValueInfo>,
    /// Graph outputs.
    pub outputs: Vec<ValueInfo>,
    /// Constant tensors by value name (weights, and `Constant` node values are kept as nodes).
    pub initializers: BTreeMap<String, Arc<TensorData>>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Declared types of intermediate values.
    pub value_info: HashMap<String, ValueInfo>,
}

impl Graph {
    /// Number of nodes by op type (`domain::op` outside the default domain).
    pub fn op_histogram(&self) -> BTreeMap<String, usize> {
        let mut hist = BTreeMap::new();
        for node in &self.nodes {
            *hist.entry(node.qualified_op()).or_insert(0) += 1;
        }
        hist
    }

    /// Total number of elements and bytes held in initializers.
    pub fn parameter_stats(&self) -> (usize, usize) {
        self.initializers
            .values()
            .fold((0, 0), |(n, b), t| (n + t.len(), b + t.byte_size()))
    }

    /// For each value name, the indices of the nodes that read it (explicitly, or from inside
    /// one of their subgraphs).
    pub fn consumers(&self) -> HashMap<&str, Vec<usize>> {
        let mut map: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for input in node.inputs.iter().filter(|s| !s.is_empty()) {
                map.entry(input.as_str()).or_default().push(i);
            }
            if node.has_subgraphs() {
                for name in node.implicit_inputs() {
                    if let Some(key) = self.name_ref(&name) {
                        map.entry(key).or_default().push(i);
                    }
                }
            }
        }
        map
    }

    /// This graph's own copy of `name`, when the graph defines or reads a value of that name.
    fn name_ref(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .map(|v| v.name.as_str())
            .chain(self.initializers.keys().map(String::as_str))
            .chain(
                self.nodes
                    .iter()
                    .flat_map(|n| n.outputs.iter().map(String::as_str)),
            )
            .find(|n| *n == name)
    }

    /// Renames every read of the enclosing-scope value `old` inside this graph (node inputs at
    /// any depth, and graph outputs that pass it through) to `new`. Used when a pass renames a
    /// value of the enclosing graph that this subgraph captures.
    pub fn rename_free_uses(&mut self, old: &str, new: &str) {
        if self.defined_values().contains(old) {
            return;
        }
        for node in &mut self.nodes {
            for input in &mut node.inputs {
                if input == old {
                    *input = new.to_string();
                }
            }
            for attr in node.attrs.values_mut() {
                if let crate::Attribute::Graph(g) = attr {
                    g.rename_free_uses(old, new);
                }
            }
        }
        for out in &mut self.outputs {
            if out.name == old {
                out.name = new.to_string();
            }
        }
    }

    /// Values this graph reads but does not define: the outer-scope values a subgraph
    /// (an `If` branch, a `Loop` or `Scan` body) captures, sorted by name.
    pub fn free_values(&self) -> Vec<String> {
        let defined = self.defined_values();
        let mut free = std::collections::BTreeSet::new();
        for node in &self.nodes {
            for input in node.inputs.iter().filter(|s| !s.is_empty()) {
                if !defined.contains(input.as_str()) {
                    free.insert(input.clone());
                }
            }
            for name in node.implicit_inputs() {
                if !defined.contains(name.as_str()) {
                    free.insert(name);
                }
            }
        }
        for out in &self.outputs {
            if !defined.contains(out.name.as_str()) {
                free.insert(out.name.clone());
            }
        }
        free.into_iter().collect()
    }

    /// Names of values defined inside this graph (inputs, initializers, node outputs).
    pub fn defined_values(&self) -> HashSet<&str> {
        let mut set: HashSet<&str> = self.inputs.iter().map(|v| v.name.as_str()).collect();
        set.extend(self.initializers.keys().map(String::as_str));
        for node in &self.nodes {
            set.extend(
                node.outputs
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(String::as_str),
            );
        }
        set
    }
}

impl Node {
    /// The graphs held in this node's attributes (`If` branches, `Loop`/`Scan` bodies).
    pub fn subgraphs(&self) -> impl Iterator<Item = &Graph> {
        self.attrs.values().filter_map(|a| match a {
            crate::Attribute::Graph(g) => Some(g.as_ref()),
            _ => None,
        })
    }

    /// True when an attribute holds a graph.
    pub fn has_subgraphs(&self) -> bool {
        self.subgraphs().next().is_some()
    }

    /// The enclosing-scope values this node's subgraphs read (sorted, deduplicated): the
    /// node's implicit inputs, which must be computed before it runs.
    pub fn implicit_inputs(&self) -> Vec<String> {
        let mut all: Vec<String> = self.subgraphs().flat_map(Graph::free_values).collect();
        all.sort();
        all.dedup();
        all
    }

    /// `op_type`, prefixed with the domain outside the default ONNX domain.
    pub fn qualified_op(&self) -> String {
        if self.domain.is_empty() || self.domain == "ai.onnx" {
            self.op_type.clone()
        } else {
            format!("{}::{}", self.domain, self.op_type)
        }
    }
}

/// A model: the main graph plus the metadata needed to run and re-export it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// The main graph.
    pub graph: Graph,
    /// Operator set version by domain (`""` is the default ONNX domain).
    pub opsets: BTreeMap<String, i64>,
    /// ONNX IR version of the file.
    pub ir_version: i64,
    /// Producer name (`pytorch`, `tf2onnx`, ...).
    pub producer_name: String,
    /// Producer version.
    pub producer_version: String,
    /// Free-form metadata properties.
    pub metadata: BTreeMap<String, String>,
}

impl Model {
    /// Opset version of the default ONNX domain (0 when the model declares none).
    pub fn opset(&self) -> i64 {
        self.opsets
            .get("")
            .or_else(|| self.opsets.get("ai.onnx"))
            .copied()
            .unwrap_or(0)
    }
}
