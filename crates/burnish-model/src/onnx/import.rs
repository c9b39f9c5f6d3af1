//! ONNX file -> [`Model`]: wire-format decoding through onnx-ir's protobuf bindings, then a
//! faithful translation (names, op types, attributes as authored) and structural checks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use onnx_ir::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, TypeProto, ValueInfoProto,
};

use super::tensor_proto::decode_tensor;
use crate::DType;
use crate::attr::{Attribute, Attributes};
use crate::error::ModelError;
use crate::graph::{Dim, Graph, Model, Node, ValueInfo};

/// Reads and checks an ONNX model file.
pub fn load_onnx(path: impl AsRef<Path>) -> Result<Model, ModelError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    decode_onnx(&bytes, &path.display().to_string(), path.parent())
}

/// Decodes and checks an ONNX model held in memory. `label` names it in errors; `base_dir`
/// resolves external data files.
pub fn decode_onnx(
    bytes: &[u8],
    label: &str,
    base_dir: Option<&Path>,
) -> Result<Model, ModelError> {
    let proto = ModelProto::parse_from_bytes(bytes).map_err(|e| ModelError::Decode {
        path: label.to_string(),
        message: e.to_string(),
    })?;
    let ctx = Ctx { label, base_dir };
    let Some(graph) = proto.graph.as_ref() else {
        return Err(ctx.invalid("the model has no graph"));
    };
    let mut opsets = BTreeMap::new();
    for op in &proto.opset_import {
        let domain = if op.domain == "ai.onnx" {
            ""
        } else {
            op.domain.as_str()
        };
        opsets.insert(domain.to_string(), op.version);
    }
    if opsets.is_empty() {
        return Err(ctx.invalid("the model declares no opset_import"));
    }
    let graph = ctx.graph(graph, &HashSet::new())?;
    let model = Model {
        graph,
        opsets,
        ir_version: proto.ir_version,
        producer_name: proto.producer_name.clone(),
        producer_version: proto.producer_version.clone(),
        metadata: proto
            .metadata_props
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect(),
    };
    crate::validate::check_model(&model, label)?;
    Ok(model)
}

struct Ctx<'a> {
    label: &'a str,
    base_dir: Option<&'a Path>,
}

impl Ctx<'_> {
    fn invalid(&self, message: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            path: self.label.to_string(),
            message: message.into(),
        }
    }

    fn node_err(&self, node: &Node, message: impl Into<String>) -> ModelError {
        ModelError::Node {
            path: self.label.to_string(),
            node: node.name.clone(),
            op: node.op_type.clone(),
            message: message.into(),
        }
    }

    /// Translates a graph; `outer` holds the names visible from enclosing graphs.
    fn graph(&self, proto: &GraphProto, outer: &HashSet<String>) -> Result<Graph, ModelError> {
        let mut initializers = BTreeMap::new();
        for t in &proto.initializer {
            let data = decode_tensor(t, self.base_dir)
                .map_err(|m| self.invalid(format!("initializer `{}`: {m}", t.name)))?;
            initializers.insert(t.name.clone(), Arc::new(data));
        }
        if !proto.sparse_initializer.is_empty() {
            return Err(self.invalid("sparse initializers are not supported"));
        }
        let main = outer.is_empty();
        let typed = |v: &ValueInfoProto, role: &str, required: bool| {
            value_info(v, required).map_err(|m| self.invalid(format!("{role} `{}`: {m}", v.name)))
        };
        let inputs: Vec<ValueInfo> = proto
            .input
            .iter()
            .filter(|v| !initializers.contains_key(&v.name))
            .map(|v| typed(v, "graph input", main))
            .collect::<Result<_, _>>()?;
        let outputs: Vec<ValueInfo> = proto
            .output
            .iter()
            .map(|v| typed(v, "graph output", false))
            .collect::<Result<_, _>>()?;
        let value_info: HashMap<String, ValueInfo> = proto
            .value_info
            .iter()
            .map(|v| Ok((v.name.clone(), typed(v, "value", false)?)))
            .collect::<Result<_, ModelError>>()?;

        let mut visible: HashSet<String> = outer.clone();
        visible.extend(inputs.iter().map(|v| v.name.clone()));
        visible.extend(initializers.keys().cloned());
        // Subgraphs may read any value of this graph (and of the enclosing ones).
        let mut scope = visible.clone();
        scope.extend(proto.node.iter().flat_map(|n| n.output.iter().cloned()));
        let mut nodes = Vec::with_capacity(proto.node.len());
        for (index, n) in proto.node.iter().enumerate() {
            nodes.push(self.node(n, index, &scope)?);
        }
        let nodes = self.topo_sort(nodes, &visible)?;
        let graph = Graph {
            name: proto.name.clone(),
            inputs,
            outputs,
            initializers,
            nodes,
            value_info,
        };
        let defined = graph.defined_values();
        for out in &graph.outputs {
            if !defined.contains(out.name.as_str()) && !outer.contains(&out.name) {
                return Err(self.invalid(format!(
                    "graph output `{}` is produced by no node, input or initializer",
                    out.name
                )));
            }
        }
        Ok(graph)
    }

    fn node(
        &self,
        n: &NodeProto,
        index: usize,
        visible: &HashSet<String>,
    ) -> Result<Node, ModelError> {
        let name = if n.name.is_empty() {
            format!("{}_{index}", n.op_type)
        } else {
            n.name.clone()
        };
        let mut node = Node {
            name,
            op_type: n.op_type.clone(),
            domain: if n.domain == "ai.onnx" {
                String::new()
            } else {
                n.domain.clone()
            },
            inputs: n.input.clone(),
            outputs: n.output.clone(),
            attrs: Attributes::new(),
        };
        if node.op_type.is_empty() {
            return Err(self.node_err(&node, "empty op_type"));
        }
        for a in &n.attribute {
            if node.attrs.contains_key(&a.name) {
                return Err(self.node_err(&node, format!("attribute `{}` is given twice", a.name)));
            }
            let value = self.attribute(a, visible).map_err(|e| match e {
                AttrFail::Msg(m) => self.node_err(&node, format!("attribute `{}`: {m}", a.name)),
                AttrFail::Model(e) => e,
            })?;
            node.attrs.insert(a.name.clone(), value);
        }
        Ok(node)
    }

    fn attribute(
        &self,
        a: &AttributeProto,
        scope: &HashSet<String>,
    ) -> Result<Attribute, AttrFail> {
        use onnx_ir::AttributeType as T;
        let ty = a.type_.enum_value().unwrap_or(T::UNDEFINED);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Ok(match ty {
            T::FLOAT => Attribute::Float(a.f),
            T::INT => Attribute::Int(a.i),
            T::STRING => Attribute::String(text(&a.s)),
            T::TENSOR => {
                let t =
                    a.t.as_ref()
                        .ok_or(AttrFail::Msg("tensor attribute without a tensor".into()))?;
                Attribute::Tensor(
                    decode_tensor(t, self.base_dir).map_err(|e| AttrFail::Msg(e.to_string()))?,
                )
            }
            T::GRAPH => {
                let g =
                    a.g.as_ref()
                        .ok_or(AttrFail::Msg("graph attribute without a graph".into()))?;
                Attribute::Graph(Box::new(self.graph(g, scope).map_err(AttrFail::Model)?))
            }
            T::FLOATS => Attribute::Floats(a.floats.clone()),
            T::INTS => Attribute::Ints(a.ints.clone()),
            T::STRINGS => Attribute::Strings(a.strings.iter().map(|s| text(s)).collect()),
            T::TYPE_PROTO => {
                let tp =
                    a.tp.as_ref()
                        .ok_or(AttrFail::Msg("type attribute without a type".into()))?;
                Attribute::Type(
                    tp.write_to_bytes()
                        .map_err(|e| AttrFail::Msg(e.to_string()))?,
                )
            }
            T::UNDEFINED => {
                // Very old exporters leave the type unset; infer it from the populated field.
                if !a.ints.is_empty() {
                    Attribute::Ints(a.ints.clone())
                } else if !a.floats.is_empty() {
                    Attribute::Floats(a.floats.clone())
                } else if !a.s.is_empty() {
                    Attribute::String(text(&a.s))
                } else if a.f != 0.0 {
                    Attribute::Float(a.f)
                } else {
                    Attribute::Int(a.i)
                }
            }
            other => {
                return Err(AttrFail::Msg(format!(
                    "attribute type {other:?} is not supported"
                )));
            }
        })
    }

    /// Orders nodes so every input is produced before use (ONNX requires it; some exporters
    /// do not comply), and rejects dangling inputs, duplicate outputs and cycles.
    fn topo_sort(
        &self,
        nodes: Vec<Node>,
        visible: &HashSet<String>,
    ) -> Result<Vec<Node>, ModelError> {
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for out in node.outputs.iter().filter(|o| !o.is_empty()) {
                if visible.contains(out) || producer.insert(out.as_str(), i).is_some() {
                    return Err(self.node_err(node, format!("output `{out}` is defined twice")));
                }
            }
        }
        for node in &nodes {
            for input in node.inputs.iter().filter(|i| !i.is_empty()) {
                if !visible.contains(input) && !producer.contains_key(input.as_str()) {
                    return Err(self.node_err(
                        node,
                        format!("input `{input}` is not a graph input, initializer or node output"),
                    ));
                }
            }
        }
        let deps: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                let implicit = if n.has_subgraphs() {
                    n.implicit_inputs()
                } else {
                    Vec::new()
                };
                n.inputs
                    .iter()
                    .chain(&implicit)
                    .filter_map(|i| producer.get(i.as_str()).copied())
                    .collect()
            })
            .collect();
        let mut state = vec![0u8; nodes.len()];
        let mut order = Vec::with_capacity(nodes.len());
        for start in 0..nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some((n, k)) = stack.pop() {
                if let Some(&d) = deps[n].get(k) {
                    stack.push((n, k + 1));
                    match state[d] {
                        0 => {
                            state[d] = 1;
                            stack.push((d, 0));
                        }
                        1 => {
                            return Err(
                                self.node_err(&nodes[d], "the graph has a cycle through this node")
                            );
                        }
                        _ => {}
                    }
                } else {
                    state[n] = 2;
                    order.push(n);
                }
            }
        }
        let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
        Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
    }
}

enum AttrFail {
    Msg(String),
    Model(ModelError),
}

/// The declared type of a graph value: tensor types must name a known element type; a value
/// without a type is an error where one is `required` (the main graph's inputs); map and
/// sparse types are not supported.
fn value_info(v: &ValueInfoProto, required: bool) -> Result<ValueInfo, String> {
    let mut info = ValueInfo {
        name: v.name.clone(),
        dtype: None,
        shape: None,
    };
    let Some(ty) = v.type_.as_ref() else {
        return match required {
            true => Err("has no type".into()),
            false => Ok(info),
        };
    };
    check_type(ty, 0)?;
    if !ty.has_tensor_type() {
        return Ok(info);
    }
    let tt = ty.tensor_type();
    info.dtype = DType::from_onnx(tt.elem_type);
    if let Some(shape) = tt.shape.as_ref() {
        info.shape = Some(
            shape
                .dim
                .iter()
                .map(|d| {
                    if d.has_dim_value() && d.dim_value() >= 0 {
                        Dim::Fixed(d.dim_value() as usize)
                    } else if d.has_dim_param() && !d.dim_param().is_empty() {
                        Dim::Symbolic(d.dim_param().to_string())
                    } else {
                        Dim::Unknown
                    }
                })
                .collect(),
        );
    }
    Ok(info)
}

/// Element types of tensors (inside sequences and optionals too) must be ones burnish knows.
fn check_type(ty: &TypeProto, depth: usize) -> Result<(), String> {
    if depth > 16 {
        return Err("type nests too deeply".into());
    }
    if ty.has_tensor_type() {
        let code = ty.tensor_type().elem_type;
        return match (code, DType::from_onnx(code)) {
            (_, Some(_)) => Ok(()),
            (0, None) => Err("tensor type without an element type".into()),
            (14 | 15, None) => Err("complex tensors are not supported".into()),
            (c, None) => Err(format!("element type {c} is not an ONNX element type")),
        };
    }
    if ty.has_sequence_type() {
        return match ty.sequence_type().elem_type.as_ref() {
            Some(inner) => check_type(inner, depth + 1),
            None => Ok(()),
        };
    }
    if ty.has_optional_type() {
        return match ty.optional_type().elem_type.as_ref() {
            Some(inner) => check_type(inner, depth + 1),
            None => Ok(()),
        };
    }
    if ty.has_map_type() {
        return Err("map types are not supported".into());
    }
    if ty.has_sparse_tensor_type() {
        return Err("sparse tensor types are not supported".into());
    }
    Ok(())
}
