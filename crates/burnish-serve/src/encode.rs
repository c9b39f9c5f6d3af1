//! Encoding infer responses: JSON data, or the binary tensor data extension.

use burnish_model::{Buffer, TensorData};
use serde_json::Value as Json;

use crate::decode::OutputChoice;
use crate::error::RequestError;
use crate::protocol::{InferResponse, Parameters, ResponseOutput, datatype_name};
use crate::signature::Signature;

/// An encoded response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// JSON header followed by the binary sections.
    pub body: Vec<u8>,
    /// Length of the JSON header when there are binary sections (`Inference-Header-Content-Length`).
    pub header_len: Option<usize>,
}

/// Encodes `outputs` (in `sig`'s output order), keeping the `chosen` ones in their order.
pub fn encode(
    model: &str,
    id: Option<String>,
    sig: &Signature,
    outputs: &[TensorData],
    chosen: &[OutputChoice],
) -> Result<Encoded, RequestError> {
    let mut tail = Vec::new();
    let mut list = Vec::with_capacity(chosen.len());
    for choice in chosen {
        let index = sig
            .outputs
            .iter()
            .position(|o| o.name == choice.name)
            .ok_or_else(|| RequestError::bad(format!("unknown output `{}`", choice.name)))?;
        let t = outputs.get(index).ok_or_else(|| {
            RequestError::Internal(format!("output `{}` was not produced", choice.name))
        })?;
        let datatype = datatype_name(t.dtype()).ok_or_else(|| {
            RequestError::Internal(format!(
                "output `{}` is {}, which v2 cannot carry",
                choice.name,
                t.dtype()
            ))
        })?;
        let shape = t.shape.iter().map(|&d| d as i64).collect();
        let (parameters, data) = if choice.binary {
            let bytes = t.data.to_le_bytes().ok_or_else(|| {
                RequestError::Internal(format!("output `{}` has no binary form", choice.name))
            })?;
            let mut p = Parameters::new();
            p.insert("binary_data_size".into(), Json::from(bytes.len()));
            tail.extend_from_slice(&bytes);
            (Some(p), None)
        } else {
            (None, Some(json_data(&t.data)))
        };
        list.push(ResponseOutput {
            name: choice.name.clone(),
            shape,
            datatype: datatype.to_string(),
            parameters,
            data,
        });
    }
    let response = InferResponse {
        model_name: model.to_string(),
        model_version: Some("1".to_string()),
        id,
        outputs: list,
    };
    let mut body = serde_json::to_vec(&response)
        .map_err(|e| RequestError::Internal(format!("encoding the response: {e}")))?;
    let header_len = (!tail.is_empty() || chosen.iter().any(|c| c.binary)).then_some(body.len());
    body.extend_from_slice(&tail);
    Ok(Encoded { body, header_len })
}

/// Elements as a flat JSON array (non-finite floats become `null`).
pub fn json_data(data: &Buffer) -> Json {
    fn arr<T: Copy>(v: &[T], f: impl Fn(T) -> Json) -> Json {
        Json::Array(v.iter().map(|&x| f(x)).collect())
    }
    match data {
        Buffer::F32(v) => arr(v, |x| Json::from(x as f64)),
        Buffer::F64(v) => arr(v, Json::from),
        Buffer::F16(v) => arr(v, |x| Json::from(x.to_f64())),
        Buffer::BF16(v) => arr(v, |x| Json::from(x.to_f64())),
        Buffer::I8(v) => arr(v, Json::from),
        Buffer::I16(v) => arr(v, Json::from),
        Buffer::I32(v) => arr(v, Json::from),
        Buffer::I64(v) => arr(v, Json::from),
        Buffer::U8(v) => arr(v, Json::from),
        Buffer::U16(v) => arr(v, Json::from),
        Buffer::U32(v) => arr(v, Json::from),
        Buffer::U64(v) => arr(v, Json::from),
        Buffer::Bool(v) => arr(v, Json::from),
        Buffer::String(v) => Json::Array(v.iter().map(|s| Json::from(s.as_str())).collect()),
        Buffer::Narrow(_, v) => arr(v, Json::from),
    }
}
