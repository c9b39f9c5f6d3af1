//! A blocking v2 REST client (ureq, keep-alive) and [`RemoteTarget`], which lets every
//! burnish-bench scenario load-test a v2 server.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use burnish_bench::{Target, TargetError};
use burnish_model::samples::take_rows;
use burnish_model::synth::Rng;
use burnish_model::{Buffer, DType, TensorData};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::decode::json_buffer;
use crate::encode::json_data;
use crate::error::ClientError;
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
) -> Result<Vec<(String, TensorData)>, String> {
    let split = header_len.unwrap_or(body.len()).min(body.len());
    let (head, mut tail) = body.split_at(split);
    let response: InferResponse =
        serde_json::from_slice(head).map_err(|e| format!("invalid response JSON: {e}"))?;
    response
        .outputs
        .into_iter()
        .map(|o| {
            let dtype = parse_datatype(&o.datatype)
                .ok_or_else(|| format!("output `{}`: datatype `{}`", o.name, o.datatype))?;
            let shape: Vec<usize> = o.shape.iter().map(|&d| d.max(0) as usize).collect();
            let size = o
                .parameters
                .as_ref()
                .and_then(|p| p.get("binary_data_size"));
            let data = match (size.and_then(Json::as_u64), &o.data) {
                (Some(n), _) => {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    if n > tail.len() {
                        return Err(format!("output `{}`: binary data past the body", o.name));
                    }
                    let (bytes, rest) = tail.split_at(n);
                    tail = rest;
                    Buffer::from_le_bytes(dtype, bytes)?
                }
                (None, Some(d)) => json_buffer(dtype, d)?,
                (None, None) => return Err(format!("output `{}` has no data", o.name)),
            };
            let t =
                TensorData::new(shape, data).map_err(|e| format!("output `{}`: {e}", o.name))?;
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
        decode_response(&bytes, header_len).map_err(|message| ClientError::Protocol {
            url: format!("{}/v2/models/{model}/infer", self.base),
            message,
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

/// Where a [`RemoteTarget`]'s inputs come from.
#[derive(Debug, Clone, Default)]
pub struct RemoteInputs {
    /// Real data by input name (samples along dim 0, cycled to fill a batch).
    pub data: Option<BTreeMap<String, TensorData>>,
    /// Full shapes by input name for variable dims (the leading dim follows the batch).
    pub shapes: HashMap<String, Vec<usize>>,
    /// Seed of synthetic inputs.
    pub seed: u64,
}

/// A bench target that sends every query to a model on a v2 server.
pub struct RemoteTarget {
    client: Client,
    model: String,
    format: Format,
    metadata: ModelMetadata,
    inputs: RemoteInputs,
    prepared: Mutex<HashMap<usize, Arc<RequestBody>>>,
}

impl std::fmt::Debug for RemoteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTarget")
            .field("url", &self.client.url())
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl RemoteTarget {
    /// Connects to `url` and reads `model`'s metadata.
    pub fn connect(
        url: &str,
        model: &str,
        format: Format,
        inputs: RemoteInputs,
    ) -> Result<Self, ClientError> {
        let client = Client::new(url);
        let metadata = client.model_metadata(model)?;
        Ok(Self {
            client,
            model: model.to_string(),
            format,
            metadata,
            inputs,
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The model's metadata.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }

    /// Whether the model takes a batch of `batch` (a fixed leading dim takes only itself).
    pub fn batch_support(&self, batch: usize) -> Result<(), String> {
        match self.metadata.inputs.first().and_then(|i| i.shape.first()) {
            Some(&n) if n >= 0 && n as usize != batch => Err(format!(
                "input `{}` has a fixed batch of {n}",
                self.metadata.inputs[0].name
            )),
            _ => Ok(()),
        }
    }

    /// The tensors of one query of `batch` rows.
    pub fn batch_inputs(&self, batch: usize) -> Result<Vec<(String, TensorData)>, String> {
        let mut rng = Rng::new(self.inputs.seed);
        self.metadata
            .inputs
            .iter()
            .map(|m| {
                if let Some(t) = self.inputs.data.as_ref().and_then(|d| d.get(&m.name)) {
                    let rows = *t
                        .shape
                        .first()
                        .ok_or(format!("input `{}` is a scalar", m.name))?;
                    if rows == 0 {
                        return Err(format!("input `{}` has no samples", m.name));
                    }
                    let idx: Vec<usize> = (0..batch).map(|k| k % rows).collect();
                    return Ok((m.name.clone(), take_rows(t, 0, &idx)?));
                }
                let shape = self.shape(&m.name, &m.shape, batch)?;
                let dtype = parse_datatype(&m.datatype)
                    .ok_or_else(|| format!("input `{}`: datatype `{}`", m.name, m.datatype))?;
                let t = TensorData::new(
                    shape.clone(),
                    synth(dtype, shape.iter().product(), &mut rng)?,
                )
                .map_err(|e| e.to_string())?;
                Ok((m.name.clone(), t))
            })
            .collect()
    }

    fn shape(&self, name: &str, dims: &[i64], batch: usize) -> Result<Vec<usize>, String> {
        let given = self.inputs.shapes.get(name);
        dims.iter()
            .enumerate()
            .map(|(k, &d)| match (d, given.and_then(|g| g.get(k))) {
                (-1, _) if k == 0 => Ok(batch),
                (-1, Some(&n)) => Ok(n),
                (-1, None) => Err(format!(
                    "input `{name}` has a variable dim {k}: give its shape with --shape {name}=AxBxC"
                )),
                (n, _) => usize::try_from(n).map_err(|_| format!("input `{name}`: dim {n}")),
            })
            .collect()
    }
}

fn synth(dtype: DType, n: usize, rng: &mut Rng) -> Result<Buffer, String> {
    let mut ints = || {
        (0..n)
            .map(|_| (rng.next_u64() % 2) as i64)
            .collect::<Vec<_>>()
    };
    Ok(match dtype {
        DType::F32 => Buffer::F32(
            (0..n)
                .map(|_| (rng.next_f64() * 2.0 - 1.0) as f32)
                .collect(),
        ),
        DType::F64 => Buffer::F64((0..n).map(|_| rng.next_f64() * 2.0 - 1.0).collect()),
        DType::I64 => Buffer::I64(ints()),
        DType::I32 => Buffer::I32(ints().into_iter().map(|x| x as i32).collect()),
        DType::U8 => Buffer::U8(ints().into_iter().map(|x| x as u8).collect()),
        DType::Bool => Buffer::Bool(ints().into_iter().map(|x| x == 1).collect()),
        other => return Err(format!("cannot synthesize {other} inputs")),
    })
}

impl Target for RemoteTarget {
    fn name(&self) -> &str {
        &self.model
    }

    fn prepare(&self, batch: usize) -> Result<(), TargetError> {
        let mut cache = self
            .prepared
            .lock()
            .map_err(|_| TargetError::new("poisoned cache"))?;
        if cache.contains_key(&batch) {
            return Ok(());
        }
        let inputs = self.batch_inputs(batch).map_err(TargetError::new)?;
        let body =
            encode_request(&inputs, self.format).map_err(|e| TargetError::new(e.to_string()))?;
        cache.insert(batch, Arc::new(body));
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let body = self
            .prepared
            .lock()
            .map_err(|_| TargetError::new("poisoned cache"))?
            .get(&batch)
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} was not prepared")))?;
        let (bytes, header_len) = self
            .client
            .infer_raw(&self.model, &body)
            .map_err(|e| TargetError::new(e.to_string()))?;
        let split = header_len.unwrap_or(bytes.len()).min(bytes.len());
        let response: InferResponse = serde_json::from_slice(&bytes[..split])
            .map_err(|e| TargetError::new(format!("invalid response: {e}")))?;
        if response.outputs.is_empty() {
            return Err(TargetError::new("the response has no outputs"));
        }
        Ok(())
    }
}
