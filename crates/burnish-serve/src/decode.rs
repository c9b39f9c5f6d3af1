//! Checking and decoding an infer request against a model's signature. Every check (names,
//! datatypes, shapes, element counts, data and binary section sizes) runs before any tensor
//! memory is allocated.

use std::collections::{BTreeMap, HashSet};

use burnish_model::{Buffer, DType, Dim, TensorData};
use half::{bf16, f16};
use serde_json::Value as Json;

use crate::error::RequestError;
use crate::protocol::{InferRequest, flag, parse_datatype};
use crate::signature::Signature;

/// Per-request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most elements in one input tensor.
    pub max_elements: usize,
    /// Most bytes in one request body.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_elements: 1 << 26,
            max_body: 64 << 20,
        }
    }
}

/// One output to return, and whether as binary data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChoice {
    /// Output name.
    pub name: String,
    /// Return it in the binary section.
    pub binary: bool,
}

/// A checked, decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Input tensors by name.
    pub inputs: BTreeMap<String, TensorData>,
    /// Outputs to return, in order.
    pub outputs: Vec<OutputChoice>,
}

enum Source<'a> {
    Json(&'a Json),
    Binary(std::ops::Range<usize>),
}

struct Planned<'a> {
    name: &'a str,
    dtype: DType,
    shape: Vec<usize>,
    source: Source<'a>,
}

/// Splits an HTTP infer body into its JSON request and binary section: the first
/// `header_len` bytes (the `Inference-Header-Content-Length` header) are the JSON, or the whole
/// body when there is no such header.
pub fn split_body(
    body: &[u8],
    header_len: Option<usize>,
) -> Result<(InferRequest, &[u8]), RequestError> {
    let (head, tail) = match header_len {
        None => (body, &body[..0]),
        Some(n) if n <= body.len() => body.split_at(n),
        Some(n) => {
            return Err(RequestError::bad(format!(
                "Inference-Header-Content-Length is {n} but the body has only {} bytes",
                body.len()
            )));
        }
    };
    let request = serde_json::from_slice(head).map_err(|e| {
        RequestError::bad(format!(
            "the request's JSON is invalid ({e}); a binary body needs the \
             Inference-Header-Content-Length header"
        ))
    })?;
    Ok((request, tail))
}

/// Checks `request` (with `binary`, the body after the JSON header) against `sig` and decodes
/// its tensors.
pub fn decode(
    sig: &Signature,
    request: &InferRequest,
    binary: &[u8],
    limits: &Limits,
) -> Result<Decoded, RequestError> {
    let mut seen = HashSet::new();
    let mut offset = 0usize;
    let mut plans = Vec::with_capacity(request.inputs.len());
    for input in &request.inputs {
        let bad = |m: String| RequestError::bad(format!("input `{}`: {m}", input.name));
        let spec = sig.input(&input.name).ok_or_else(|| {
            RequestError::bad(format!(
                "unknown input `{}`; the model takes {}",
                input.name,
                sig.input_names()
            ))
        })?;
        if !seen.insert(input.name.as_str()) {
            return Err(bad("given more than once".into()));
        }
        let dtype = parse_datatype(&input.datatype)
            .ok_or_else(|| bad(format!("datatype `{}` is not supported", input.datatype)))?;
        if dtype != spec.dtype {
            return Err(bad(format!(
                "datatype {} but the model takes {}",
                input.datatype,
                spec.datatype()
            )));
        }
        let shape = check_shape(&input.shape, spec.dims.as_deref()).map_err(bad)?;
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                bad(format!(
                    "shape {:?} overflows the element count",
                    input.shape
                ))
            })?;
        if count > limits.max_elements {
            return Err(bad(format!(
                "{count} elements is over the limit of {} (--max-elements)",
                limits.max_elements
            )));
        }
        let binary_size = input
            .parameters
            .as_ref()
            .and_then(|p| p.get("binary_data_size"));
        let source = match (binary_size, &input.data) {
            (Some(_), Some(_)) => return Err(bad("has both `data` and `binary_data_size`".into())),
            (None, None) => return Err(bad("has no `data` and no `binary_data_size`".into())),
            (None, Some(data)) => {
                let n = count_elements(data).map_err(bad)?;
                if n != count {
                    return Err(bad(format!(
                        "`data` holds {n} elements but shape {:?} needs {count}",
                        input.shape
                    )));
                }
                Source::Json(data)
            }
            (Some(size), None) => {
                let size = size
                    .as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .ok_or_else(|| bad("`binary_data_size` is not a byte count".into()))?;
                let expected = count.checked_mul(dtype.size()).ok_or_else(|| {
                    bad(format!("shape {:?} overflows the byte count", input.shape))
                })?;
                if size != expected {
                    return Err(bad(format!(
                        "`binary_data_size` is {size} bytes but shape {:?} of {} needs {expected}",
                        input.shape, input.datatype
                    )));
                }
                let end = offset.checked_add(size).filter(|&e| e <= binary.len());
                let end = end.ok_or_else(|| {
                    bad(format!(
                        "binary data ends at byte {} but the body holds {} bytes after the \
                         JSON header (Inference-Header-Content-Length)",
                        offset.saturating_add(size),
                        binary.len()
                    ))
                })?;
                let range = offset..end;
                offset = end;
                Source::Binary(range)
            }
        };
        plans.push(Planned {
            name: &input.name,
            dtype,
            shape,
            source,
        });
    }
    if offset != binary.len() {
        return Err(RequestError::bad(format!(
            "the body holds {} bytes after the JSON header but the inputs' binary_data_size \
             add up to {offset} (check Inference-Header-Content-Length)",
            binary.len()
        )));
    }
    if let Some(missing) = sig.inputs.iter().find(|i| !seen.contains(i.name.as_str())) {
        return Err(RequestError::bad(format!(
            "missing input `{}`; the model takes {}",
            missing.name,
            sig.input_names()
        )));
    }
    let outputs = choose_outputs(sig, request)?;
    let mut inputs = BTreeMap::new();
    for p in plans {
        let bad = |m: String| RequestError::bad(format!("input `{}`: {m}", p.name));
        let data = match p.source {
            Source::Binary(r) => {
                Buffer::from_le_bytes(p.dtype, &binary[r]).map_err(|e| bad(e.to_string()))?
            }
            Source::Json(j) => json_buffer(p.dtype, j).map_err(bad)?,
        };
        let t = TensorData::new(p.shape, data).map_err(|e| bad(e.to_string()))?;
        inputs.insert(p.name.to_string(), t);
    }
    Ok(Decoded { inputs, outputs })
}

fn check_shape(shape: &[i64], dims: Option<&[Dim]>) -> Result<Vec<usize>, String> {
    let shape: Vec<usize> = shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("shape {shape:?} has a negative dim")))
        .collect::<Result<_, _>>()?;
    if let Some(dims) = dims {
        if dims.len() != shape.len() {
            return Err(format!(
                "rank {} (shape {shape:?}) but the model takes rank {}",
                shape.len(),
                dims.len()
            ));
        }
        for (axis, (d, &n)) in dims.iter().zip(&shape).enumerate() {
            if let Dim::Fixed(f) = d
                && *f != n
            {
                return Err(format!(
                    "dim {axis} is {n} (shape {shape:?}) but the model fixes it to {f}"
                ));
            }
        }
    }
    Ok(shape)
}

fn choose_outputs(
    sig: &Signature,
    request: &InferRequest,
) -> Result<Vec<OutputChoice>, RequestError> {
    let all_binary = flag(request.parameters.as_ref(), "binary_data_output");
    match &request.outputs {
        None => Ok(sig
            .outputs
            .iter()
            .map(|o| OutputChoice {
                name: o.name.clone(),
                binary: all_binary,
            })
            .collect()),
        Some(list) => list
            .iter()
            .map(|o| {
                if sig.output(&o.name).is_none() {
                    return Err(RequestError::bad(format!(
                        "unknown output `{}`; the model has {}",
                        o.name,
                        sig.output_names()
                    )));
                }
                Ok(OutputChoice {
                    name: o.name.clone(),
                    binary: all_binary || flag(o.parameters.as_ref(), "binary_data"),
                })
            })
            .collect(),
    }
}

fn count_elements(data: &Json) -> Result<usize, String> {
    match data {
        Json::Array(items) => items.iter().try_fold(0usize, |acc, v| {
            count_elements(v)?
                .checked_add(acc)
                .ok_or_else(|| "`data` is too long".to_string())
        }),
        Json::Number(_) | Json::Bool(_) => Ok(1),
        other => Err(format!(
            "`data` holds {}, not numbers or booleans",
            match other {
                Json::String(_) => "a string",
                Json::Object(_) => "an object",
                _ => "null",
            }
        )),
    }
}

fn flatten<'a>(data: &'a Json, out: &mut Vec<&'a Json>) {
    match data {
        Json::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v),
    }
}

pub(crate) fn json_buffer(dtype: DType, data: &Json) -> Result<Buffer, String> {
    let mut flat = Vec::new();
    flatten(data, &mut flat);
    let num = |v: &Json| {
        v.as_f64()
            .ok_or_else(|| format!("`data` element {v} is not a number"))
    };
    fn int<T: TryFrom<i64> + TryFrom<u64>>(v: &Json) -> Result<T, String> {
        let out = match v {
            Json::Number(n) if n.is_u64() => n.as_u64().and_then(|x| T::try_from(x).ok()),
            Json::Number(n) => n.as_i64().and_then(|x| T::try_from(x).ok()),
            _ => None,
        };
        out.ok_or_else(|| format!("`data` element {v} is not an integer in range"))
    }
    fn all<T>(flat: &[&Json], f: impl Fn(&Json) -> Result<T, String>) -> Result<Vec<T>, String> {
        flat.iter().map(|v| f(v)).collect()
    }
    Ok(match dtype {
        DType::F32 => Buffer::F32(all(&flat, |v| num(v).map(|x| x as f32))?),
        DType::F64 => Buffer::F64(all(&flat, num)?),
        DType::F16 => Buffer::F16(all(&flat, |v| num(v).map(f16::from_f64))?),
        DType::BF16 => Buffer::BF16(all(&flat, |v| num(v).map(bf16::from_f64))?),
        DType::I8 => Buffer::I8(all(&flat, int)?),
        DType::I16 => Buffer::I16(all(&flat, int)?),
        DType::I32 => Buffer::I32(all(&flat, int)?),
        DType::I64 => Buffer::I64(all(&flat, int)?),
        DType::U8 => Buffer::U8(all(&flat, int)?),
        DType::U16 => Buffer::U16(all(&flat, int)?),
        DType::U32 => Buffer::U32(all(&flat, int)?),
        DType::U64 => Buffer::U64(all(&flat, int)?),
        DType::Bool => Buffer::Bool(all(&flat, |v| {
            v.as_bool()
                .ok_or_else(|| format!("`data` element {v} is not a boolean"))
        })?),
        other => return Err(format!("{other} tensors are not supported")),
    })
}
