//! Test data files of the backend-test layout: a serialized `TensorProto`, `SequenceProto` or
//! `OptionalProto`, chosen by the type the model declares for the input or output.
//!
//! onnx-ir's bindings hold neither `SequenceProto` nor `OptionalProto`, so those two are read
//! here straight from the protobuf wire format (their tensors go through `TensorProto`).

use std::collections::HashMap;
use std::path::Path;

use burnish_model::TensorData;
use burnish_model::onnx::decode_tensor;
use onnx_ir::{Message, ModelProto, TensorProto, ValueInfoProto};

use crate::value::Value;

/// What a graph input or output holds, from its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A tensor (also when the type is not declared).
    Tensor,
    /// A sequence.
    Sequence,
    /// An optional.
    Optional,
}

/// One decoded test value: host tensors, possibly inside sequences and optionals.
#[derive(Debug, Clone)]
pub(super) enum Data {
    /// A tensor.
    Tensor(TensorData),
    /// A sequence.
    Sequence(Vec<Data>),
    /// An optional; `None` is the empty optional.
    Optional(Option<Box<Data>>),
}

/// Nesting depth past which a data file is rejected.
const MAX_DEPTH: usize = 64;

/// The declared kind of every top-level graph input and output of a serialized model.
pub(super) fn declared_kinds(model: &[u8]) -> Result<HashMap<String, Kind>, String> {
    let proto = ModelProto::parse_from_bytes(model).map_err(|e| e.to_string())?;
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(HashMap::new());
    };
    let kind = |v: &ValueInfoProto| match v.type_.as_ref() {
        Some(t) if t.has_sequence_type() => Kind::Sequence,
        Some(t) if t.has_optional_type() => Kind::Optional,
        _ => Kind::Tensor,
    };
    Ok(graph
        .input
        .iter()
        .chain(&graph.output)
        .map(|v| (v.name.clone(), kind(v)))
        .collect())
}

/// Reads one data file as `kind`.
pub(super) fn read(path: &Path, kind: Kind) -> Result<Data, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let dir = path.parent();
    let decoded = match kind {
        Kind::Tensor => tensor(&bytes, dir),
        Kind::Sequence => sequence(&bytes, dir, 0),
        Kind::Optional => optional(&bytes, dir, 0),
    };
    decoded.map_err(|e| format!("`{}`: {e}", path.display()))
}

impl Data {
    /// The runtime value (tensors uploaded).
    pub(super) fn into_value(self) -> Result<Value, String> {
        Ok(match self {
            Data::Tensor(t) => Value::upload(&t)?,
            Data::Sequence(items) => Value::Sequence(
                items
                    .into_iter()
                    .map(Data::into_value)
                    .collect::<Result<_, _>>()?,
            ),
            Data::Optional(inner) => {
                Value::Optional(inner.map(|d| d.into_value().map(Box::new)).transpose()?)
            }
        })
    }
}

fn tensor(bytes: &[u8], dir: Option<&Path>) -> Result<Data, String> {
    let proto =
        TensorProto::parse_from_bytes(bytes).map_err(|e| format!("not a TensorProto: {e}"))?;
    let t = decode_tensor(&proto, dir).map_err(|e| e.to_string())?;
    Ok(Data::Tensor(t))
}

/// The value held by field `number` of a `SequenceProto` or `OptionalProto` (both number their
/// value fields alike), `None` for fields that hold no element.
fn element(
    number: u64,
    field: Field,
    dir: Option<&Path>,
    depth: usize,
) -> Result<Option<Data>, String> {
    let Field::Bytes(b) = field else {
        return Ok(None);
    };
    match number {
        3 => tensor(b, dir).map(Some),
        4 => Err("sparse tensors in sequences or optionals are not supported".into()),
        5 => sequence(b, dir, depth + 1).map(Some),
        6 => Err("maps in sequences or optionals are not supported".into()),
        7 => optional(b, dir, depth + 1).map(Some),
        _ => Ok(None),
    }
}

/// Decodes a `SequenceProto`: tensors (field 3), sequences (5) and optionals (7).
fn sequence(bytes: &[u8], dir: Option<&Path>, depth: usize) -> Result<Data, String> {
    if depth > MAX_DEPTH {
        return Err("sequences nest too deeply".into());
    }
    let mut wire = Wire { buf: bytes, pos: 0 };
    let mut items = Vec::new();
    while let Some((number, field)) = wire.field()? {
        if let Some(d) = element(number, field, dir, depth)? {
            items.push(d);
        }
    }
    Ok(Data::Sequence(items))
}

/// Decodes an `OptionalProto`: empty unless a value field (3, 5 or 7) is present.
fn optional(bytes: &[u8], dir: Option<&Path>, depth: usize) -> Result<Data, String> {
    if depth > MAX_DEPTH {
        return Err("optionals nest too deeply".into());
    }
    let mut wire = Wire { buf: bytes, pos: 0 };
    let mut value = None;
    while let Some((number, field)) = wire.field()? {
        if let Some(d) = element(number, field, dir, depth)? {
            value = Some(Box::new(d));
        }
    }
    Ok(Data::Optional(value))
}

/// One field's payload on the protobuf wire.
enum Field<'a> {
    /// A varint or fixed-width scalar (not needed here).
    Scalar,
    /// A length-delimited payload (string, bytes or embedded message).
    Bytes(&'a [u8]),
}

/// A reader of protobuf wire-format fields.
struct Wire<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Wire<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    fn skip(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or("truncated field")?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next `(field number, payload)`, `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Field<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => {
                self.varint()?;
                Field::Scalar
            }
            1 => {
                self.skip(8)?;
                Field::Scalar
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| "field too long")?;
                Field::Bytes(self.skip(n)?)
            }
            5 => {
                self.skip(4)?;
                Field::Scalar
            }
            w => return Err(format!("unsupported protobuf wire type {w}")),
        };
        Ok(Some((key >> 3, field)))
    }
}
