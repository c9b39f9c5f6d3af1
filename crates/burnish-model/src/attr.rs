//! Node attributes, with typed accessors that report the node on error.

use std::collections::BTreeMap;

use crate::graph::Graph;
use crate::tensor::TensorData;

/// One ONNX attribute value.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Attribute {
    Float(f32),
    Int(i64),
    String(String),
    Tensor(TensorData),
    Graph(Box<Graph>),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    Strings(Vec<String>),
    /// A `TYPE_PROTO` attribute (`Optional`'s `type`), kept as the serialized ONNX
    /// `TypeProto` so export writes it back unchanged. The runtime reads no type from it:
    /// values carry their own element types.
    Type(Vec<u8>),
}

impl Attribute {
    /// Human name of the attribute kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Attribute::Float(_) => "float",
            Attribute::Int(_) => "int",
            Attribute::String(_) => "string",
            Attribute::Tensor(_) => "tensor",
            Attribute::Graph(_) => "graph",
            Attribute::Floats(_) => "floats",
            Attribute::Ints(_) => "ints",
            Attribute::Strings(_) => "strings",
            Attribute::Type(_) => "type",
        }
    }
}

/// The attributes of a node, by name.
pub type Attributes = BTreeMap<String, Attribute>;

/// Error from a typed attribute lookup: `(attribute name, what is wrong)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrError(pub String);

impl std::fmt::Display for AttrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Typed accessors over [`Attributes`].
pub trait AttrExt {
    /// Integer attribute, or `default` when absent.
    fn int_or(&self, name: &str, default: i64) -> Result<i64, AttrError>;
    /// Integer attribute, `None` when absent.
    fn int_opt(&self, name: &str) -> Result<Option<i64>, AttrError>;
    /// Float attribute, or `default` when absent.
    fn float_or(&self, name: &str, default: f32) -> Result<f32, AttrError>;
    /// Float attribute, `None` when absent.
    fn float_opt(&self, name: &str) -> Result<Option<f32>, AttrError>;
    /// String attribute, or `default` when absent.
    fn string_or(&self, name: &str, default: &str) -> Result<String, AttrError>;
    /// Integer list attribute, `None` when absent.
    fn ints_opt(&self, name: &str) -> Result<Option<Vec<i64>>, AttrError>;
    /// Float list attribute, `None` when absent.
    fn floats_opt(&self, name: &str) -> Result<Option<Vec<f32>>, AttrError>;
    /// String list attribute, `None` when absent.
    fn strings_opt(&self, name: &str) -> Result<Option<Vec<String>>, AttrError>;
    /// Tensor attribute, `None` when absent.
    fn tensor_opt(&self, name: &str) -> Result<Option<&TensorData>, AttrError>;
    /// Graph attribute (If/Loop bodies), `None` when absent.
    fn graph_opt(&self, name: &str) -> Result<Option<&Graph>, AttrError>;
}

fn wrong(name: &str, want: &str, got: &Attribute) -> AttrError {
    AttrError(format!(
        "attribute `{name}` should be {want}, found {}",
        got.kind()
    ))
}

impl AttrExt for Attributes {
    fn int_or(&self, name: &str, default: i64) -> Result<i64, AttrError> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }
    fn int_opt(&self, name: &str) -> Result<Option<i64>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Int(v)) => Ok(Some(*v)),
            Some(other) => Err(wrong(name, "an int", other)),
        }
    }
    fn float_or(&self, name: &str, default: f32) -> Result<f32, AttrError> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }
    fn float_opt(&self, name: &str) -> Result<Option<f32>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Float(v)) => Ok(Some(*v)),
            Some(Attribute::Int(v)) => Ok(Some(*v as f32)),
            Some(other) => Err(wrong(name, "a float", other)),
        }
    }
    fn string_or(&self, name: &str, default: &str) -> Result<String, AttrError> {
        match self.get(name) {
            None => Ok(default.to_string()),
            Some(Attribute::String(v)) => Ok(v.clone()),
            Some(other) => Err(wrong(name, "a string", other)),
        }
    }
    fn ints_opt(&self, name: &str) -> Result<Option<Vec<i64>>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Ints(v)) => Ok(Some(v.clone())),
            Some(Attribute::Int(v)) => Ok(Some(vec![*v])),
            Some(other) => Err(wrong(name, "a list of ints", other)),
        }
    }
    fn floats_opt(&self, name: &str) -> Result<Option<Vec<f32>>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Floats(v)) => Ok(Some(v.clone())),
            Some(Attribute::Float(v)) => Ok(Some(vec![*v])),
            Some(other) => Err(wrong(name, "a list of floats", other)),
        }
    }
    fn strings_opt(&self, name: &str) -> Result<Option<Vec<String>>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Strings(v)) => Ok(Some(v.clone())),
            Some(Attribute::String(v)) => Ok(Some(vec![v.clone()])),
            Some(other) => Err(wrong(name, "a list of strings", other)),
        }
    }
    fn tensor_opt(&self, name: &str) -> Result<Option<&TensorData>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Tensor(t)) => Ok(Some(t)),
            Some(other) => Err(wrong(name, "a tensor", other)),
        }
    }
    fn graph_opt(&self, name: &str) -> Result<Option<&Graph>, AttrError> {
        match self.get(name) {
            None => Ok(None),
            Some(Attribute::Graph(g)) => Ok(Some(g)),
            Some(other) => Err(wrong(name, "a graph", other)),
        }
    }
}
