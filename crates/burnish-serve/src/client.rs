//! A blocking v2 REST client (ureq, keep-alive pool) and request/response encoding.

use std::time::Duration;

use burnish_model::{Buffer, TensorData};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::decode::json_buffer;
use crate::encode::json_data;
use crate::error::{ClientError, ResponseError};
use crate::protocol::{
    HEADER_LENGTH, InferRequest, InferResponse, ModelMetadata, Parameters, RequestInput,
    ServerMetadata, datatype_name, parse_datatype,
};
use crate::stats::StatsBody;

/// How tensors travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The binary tensor data extension (what perf_analyzer sends by default).
    #[default]
    Binary,
    /// JSON `data` arrays.
    Json,
}

/// An encoded infer request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBody {
    /// JSON header, then binary sections.
    pub body: Vec<u8>,
    /// The JSON header's length when binary sections follow.
    pub header_len: Option<usize>,
}

/// Encodes `inputs` as an infer request; in binary format every output is asked for as binary.
pub fn encode_request(
    inputs: &[(String, TensorData)],
    format: Format,
) -> Result<RequestBody, ClientError> {
    let mut tail = Vec::new();
    let mut list = Vec::with_capacity(inputs.len());
    for (name, t) in inputs {
        let datatype = datatype_name(t.dtype()).ok_or_else(|| {
            ClientError::Inputs(format!("input `{name}`: {} has no v2 form", t.dtype()))
        })?;
        let (parameters, data) = match format {
            Format::Json => (None, Some(json_data(&t.data))),
            Format::Binary => {
                let bytes = t.data.to_le_bytes().ok_or_else(|| {
                    ClientError::Inputs(format!("input `{name}` has no binary form"))
                })?;
                let mut p = Parameters::new();
                p.insert("binary_data_size".into(), Json::from(bytes.len()));
                tail.extend_from_slice(&bytes);
                (Some(p), None)
            }
        };
        list.push(RequestInput {
            name: name.clone(),
            shape: t.shape.iter().map(|&d| d as i64).collect(),
            datatype: datatype.to_string(),
            parameters,
            data,
        });
    }
    let parameters = (format == Format::Binary).then(|| {
        let mut p = Parameters::new();
        p.insert("binary_data_output".into(), Json::Bool(true));
        p
    });
    let request = InferRequest {
        id: None,
        parameters,
        inputs: list,
        outputs: None,
    };
    let mut body = serde_json::to_vec(&request).map_err(|e| ClientError::Inputs(e.to_string()))?;
    let header_len = (format == Format::Binary).then_some(body.len());
    body.extend_from_slice(&tail);
    Ok(RequestBody { body, header_len })
}

/// Decodes an infer response body into its outputs, in order.
pub fn decode_response(
    body: &[u8],
    header_len: Option<usize>,
) -> Result<Vec<(String, TensorData)>, ResponseError> {
    let split = header_len.unwrap_or(body.len()).min(body.len());
    let (head, mut tail) = body.split_at(split);
    let response: InferResponse =
        serde_json::from_slice(head).map_err(|e| ResponseError::Json(e.to_string()))?;
    response
        .outputs
        .into_iter()
        .map(|o| {
            let dtype = parse_datatype(&o.datatype).ok_or_else(|| ResponseError::Datatype {
                output: o.name.clone(),
                datatype: o.datatype.clone(),
            })?;
            let shape: Vec<usize> = o.shape.iter().map(|&d| d.max(0) as usize).collect();
            let size = o
                .parameters
                .as_ref()
                .and_then(|p| p.get("binary_data_size"));
            let data = match (size.and_then(Json::as_u64), &o.data) {
                (Some(n), _) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    if n > tail.len() {
                        return Err(ResponseError::PastBody { output: o.name });
                    }
                    let (bytes, rest) = tail.split_at(n);
                    tail = rest;
                    Buffer::from_le_bytes(dtype, bytes)
                        .map_err(|e| ResponseError::Data(e.to_string()))?
                }
                (None, Some(d)) => json_buffer(dtype, d).map_err(ResponseError::Data)?,
                (None, None) => return Err(ResponseError::NoData { output: o.name }),
            };
            let t = TensorData::new(shape, data).map_err(|e| ResponseError::Shape {
                output: o.name.clone(),
                message: e.to_string(),
            })?;
            Ok((o.name, t))
        })
        .collect()
}

/// A blocking v2 REST client over one keep-alive connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the server at `url` (`http://host:port`).
    pub fn new(url: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(1024)
            .max_idle_connections_per_host(1024)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: url.trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// The server's address as given.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let (status, body, _) = self.exchange(&url, None)?;
        check_status(&url, status, &body)?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Protocol {
            url,
            message: format!("invalid JSON: {e}"),
        })
    }

    /// Sends a GET (`body` None) or POST; returns status, body and the header length.
    fn exchange(
        &self,
        url: &str,
        body: Option<&RequestBody>,
    ) -> Result<(u16, Vec<u8>, Option<usize>), ClientError> {
        let transport = |e: ureq::Error| ClientError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        };
        let mut resp = match body {
            None => self.agent.get(url).call().map_err(transport)?,
            Some(b) => {
                let mut req = self.agent.post(url);
                req = match b.header_len {
                    Some(n) => req
                        .header("Content-Type", "application/octet-stream")
                        .header(HEADER_LENGTH, n.to_string()),
                    None => req.header("Content-Type", "application/json"),
                };
                req.send(&b.body[..]).map_err(transport)?
            }
        };
        let status = resp.status().as_u16();
        let header_len = resp
            .headers()
            .get(HEADER_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(transport)?;
        Ok((status, bytes, header_len))
    }

    /// `GET /v2`.
    pub fn server_metadata(&self) -> Result<ServerMetadata, ClientError> {
        self.get_json("/v2")
    }

    /// `GET /v2/models/{m}`.
    pub fn model_metadata(&self, model: &str) -> Result<ModelMetadata, ClientError> {
        self.get_json(&format!("/v2/models/{model}"))
    }

    /// `GET /v2/models/{m}/stats`.
    pub fn model_stats(&self, model: &str) -> Result<StatsBody, ClientError> {
        self.get_json(&format!("/v2/models/{model}/stats"))
    }

    /// Sends an encoded infer request; returns the raw response body and header length.
    pub fn infer_raw(
        &self,
        model: &str,
        body: &RequestBody,
    ) -> Result<(Vec<u8>, Option<usize>), ClientError> {
        let url = format!("{}/v2/models/{model}/infer", self.base);
        let (status, bytes, header_len) = self.exchange(&url, Some(body))?;
        check_status(&url, status, &bytes)?;
        Ok((bytes, header_len))
    }

    /// Runs `inputs` on `model`; returns its outputs in order.
    pub fn infer(
        &self,
        model: &str,
        inputs: &[(String, TensorData)],
        format: Format,
    ) -> Result<Vec<(String, TensorData)>, ClientError> {
        let body = encode_request(inputs, format)?;
        let (bytes, header_len) = self.infer_raw(model, &body)?;
        decode_response(&bytes, header_len).map_err(|e| ClientError::Protocol {
            url: format!("{}/v2/models/{model}/infer", self.base),
            message: e.to_string(),
        })
    }
}

fn check_status(url: &str, status: u16, body: &[u8]) -> Result<(), ClientError> {
    if status == 200 {
        return Ok(());
    }
    let message = serde_json::from_slice::<Json>(body)
        .ok()
        .and_then(|j| j.get("error")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    Err(ClientError::Status {
        url: url.to_string(),
        status,
        message,
    })
}

pub use crate::remote::{RemoteInputs, RemoteTarget};
