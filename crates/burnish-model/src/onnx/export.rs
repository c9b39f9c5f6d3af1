//! [`Model`] -> ONNX file: the inverse of the importer, through onnx-ir's protobuf bindings.
//!
//! Writes whatever the IR holds (node names, domains, attributes, initializers as `raw_data`,
//! declared value types). Passing a valid ONNX graph is the caller's business: the optimizer
//! lowers its fused ops before export unless asked to keep them.

use std::path::Path;

use onnx_ir::{
    AttributeProto, AttributeType, GraphProto, Message, ModelProto, NodeProto, TensorProto,
    TypeProto, ValueInfoProto,
};

use crate::attr::Attribute;
use crate::error::ModelError;
use crate::graph::{Dim, Graph, Model, ValueInfo};
use crate::npy::write_atomic;
use crate::tensor::{Buffer, TensorData};

/// Encodes a model as ONNX protobuf bytes. The IR version is raised to the minimum its default
/// opset needs.
pub fn encode_onnx(model: &Model) -> Result<Vec<u8>, ModelError> {
    let mut proto = ModelProto::new();
    proto.ir_version = model.ir_version.max(ir_version_for(model.opset()));
    proto.producer_name = if model.producer_name.is_empty() {
        "burnish".into()
    } else {
        model.producer_name.clone()
    };
    proto.producer_version = model.producer_version.clone();
    for (domain, version) in &model.opsets {
        let mut op = onnx_ir::ModelProto::new()
            .opset_import
            .pop()
            .unwrap_or_default();
        op.domain = domain.clone();
        op.version = *version;
        proto.opset_import.push(op);
    }
    for (k, v) in &model.metadata {
        proto.metadata_props.push(Default::default());
        let entry = proto.metadata_props.last_mut().expect("just pushed");
        entry.key = k.clone();
        entry.value = v.clone();
    }
    proto.graph = Some(graph_proto(&model.graph)?).into();
    proto.write_to_bytes().map_err(|e| ModelError::Invalid {
        path: model.graph.name.clone(),
        message: format!("protobuf encoding failed: {e}"),
    })
}

/// Writes a model to an ONNX file atomically (temporary file, then rename).
pub fn save_onnx(model: &Model, path: impl AsRef<Path>) -> Result<(), ModelError> {
    let bytes = encode_onnx(model)?;
    write_atomic(path.as_ref(), &bytes)
}

fn ir_version_for(opset: i64) -> i64 {
    match opset {
        ..=8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        12..=14 => 7,
        15..=18 => 8,
        19..=20 => 9,
        _ => 10,
    }
}

fn graph_proto(g: &Graph) -> Result<GraphProto, ModelError> {
    let mut proto = GraphProto::new();
    proto.name = g.name.clone();
    proto.input = g.inputs.iter().map(value_info).collect();
    proto.output = g.outputs.iter().map(value_info).collect();
    let mut infos: Vec<&ValueInfo> = g.value_info.values().collect();
    infos.sort_by(|a, b| a.name.cmp(&b.name));
    proto.value_info = infos.into_iter().map(value_info).collect();
    for (name, t) in &g.initializers {
        proto.initializer.push(tensor_proto(name, t)?);
    }
    for node in &g.nodes {
        let mut n = NodeProto::new();
        n.name = node.name.clone();
        n.op_type = node.op_type.clone();
        n.domain = node.domain.clone();
        n.input = node.inputs.clone();
        n.output = node.outputs.clone();
        for (name, a) in &node.attrs {
            n.attribute.push(attribute_proto(name, a)?);
        }
        proto.node.push(n);
    }
    Ok(proto)
}

fn value_info(v: &ValueInfo) -> ValueInfoProto {
    let mut proto = ValueInfoProto::new();
    proto.name = v.name.clone();
    if v.dtype.is_none() && v.shape.is_none() {
        return proto;
    }
    let mut ty = TypeProto::new();
    let tt = ty.mut_tensor_type();
    tt.elem_type = v.dtype.map(|d| d.onnx_code()).unwrap_or(0);
    if let Some(dims) = &v.shape {
        let shape = tt.shape.mut_or_insert_default();
        for d in dims {
            shape.dim.push(Default::default());
            let dim = shape.dim.last_mut().expect("just pushed");
            match d {
                Dim::Fixed(n) => dim.set_dim_value(*n as i64),
                Dim::Symbolic(s) => dim.set_dim_param(s.clone()),
                Dim::Unknown => {}
            }
        }
    }
    proto.type_ = Some(ty).into();
    proto
}

/// Encodes a tensor as a `TensorProto` (numeric data as little-endian `raw_data`).
pub fn tensor_proto(name: &str, t: &TensorData) -> Result<TensorProto, ModelError> {
    let mut proto = TensorProto::new();
    proto.name = name.to_string();
    proto.data_type = t.dtype().onnx_code();
    proto.dims = t.shape.iter().map(|&d| d as i64).collect();
    match &t.data {
        Buffer::String(v) => {
            proto.string_data = v.iter().map(|s| bytes::Bytes::from(s.clone())).collect()
        }
        other => {
            let raw = other.to_le_bytes().ok_or_else(|| ModelError::Invalid {
                path: name.to_string(),
                message: "tensor cannot be encoded".into(),
            })?;
            proto.raw_data = bytes::Bytes::from(raw);
        }
    }
    Ok(proto)
}

fn attribute_proto(name: &str, a: &Attribute) -> Result<AttributeProto, ModelError> {
    let mut p = AttributeProto::new();
    p.name = name.to_string();
    let ty = match a {
        Attribute::Float(v) => {
            p.f = *v;
            AttributeType::FLOAT
        }
        Attribute::Int(v) => {
            p.i = *v;
            AttributeType::INT
        }
        Attribute::String(v) => {
            p.s = bytes::Bytes::from(v.clone());
            AttributeType::STRING
        }
        Attribute::Tensor(t) => {
            p.t = Some(tensor_proto("", t)?).into();
            AttributeType::TENSOR
        }
        Attribute::Graph(g) => {
            p.g = Some(graph_proto(g)?).into();
            AttributeType::GRAPH
        }
        Attribute::Floats(v) => {
            p.floats = v.clone();
            AttributeType::FLOATS
        }
        Attribute::Ints(v) => {
            p.ints = v.clone();
            AttributeType::INTS
        }
        Attribute::Strings(v) => {
            p.strings = v.iter().map(|s| bytes::Bytes::from(s.clone())).collect();
            AttributeType::STRINGS
        }
        Attribute::Type(bytes) => {
            let tp = TypeProto::parse_from_bytes(bytes).map_err(|e| ModelError::Invalid {
                path: name.to_string(),
                message: format!("type attribute: {e}"),
            })?;
            p.tp = Some(tp).into();
            AttributeType::TYPE_PROTO
        }
    };
    p.type_ = ty.into();
    Ok(p)
}
