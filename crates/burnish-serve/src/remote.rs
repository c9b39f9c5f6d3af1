//! [`RemoteTarget`]: a burnish-bench target that sends every query to a model on a v2 server,
//! with inputs synthesized from the server's metadata (seeded) or taken from real data.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use burnish_bench::{Target, TargetError};
use burnish_model::TensorData;
use burnish_model::samples::take_rows;
use burnish_model::synth::random_buffer;
use burnish_stats::Rng;

use crate::client::{Client, Format, RequestBody, encode_request};
use crate::error::ClientError;
use crate::protocol::{InferResponse, ModelMetadata, parse_datatype};

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

    /// The model's server-side statistics, when the server advertises the `statistics`
    /// extension (`None` otherwise or when they cannot be read).
    pub fn server_stats(&self) -> Option<crate::stats::ModelStats> {
        let meta = self.client.server_metadata().ok()?;
        if !meta.extensions.iter().any(|e| e == "statistics") {
            return None;
        }
        let mut body = self.client.model_stats(&self.model).ok()?;
        body.model_stats.retain(|s| s.name == self.model);
        body.model_stats.pop()
    }

    /// Whether the model takes a batch of `batch` (a fixed leading dim takes only itself).
    pub fn batch_support(&self, batch: usize) -> Result<(), ClientError> {
        match self.metadata.inputs.first().and_then(|i| i.shape.first()) {
            Some(&n) if n >= 0 && n as usize != batch => Err(ClientError::FixedBatch {
                input: self.metadata.inputs[0].name.clone(),
                fixed: n,
            }),
            _ => Ok(()),
        }
    }

    /// The tensors of one query of `batch` rows: real data cycled along dim 0, else seeded
    /// random values ([`random_buffer`], integers 0 or 1).
    pub fn batch_inputs(&self, batch: usize) -> Result<Vec<(String, TensorData)>, ClientError> {
        self.build_inputs(batch).map_err(ClientError::Inputs)
    }

    fn build_inputs(&self, batch: usize) -> Result<Vec<(String, TensorData)>, String> {
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
                    let picked = take_rows(t, 0, &idx).map_err(|e| e.to_string())?;
                    return Ok((m.name.clone(), picked));
                }
                let shape = self.shape(&m.name, &m.shape, batch)?;
                let dtype = parse_datatype(&m.datatype)
                    .ok_or_else(|| format!("input `{}`: datatype `{}`", m.name, m.datatype))?;
                let data = random_buffer(dtype, shape.iter().product(), 2, &mut rng)
                    .ok_or_else(|| format!("cannot synthesize {dtype} inputs"))?;
                let t = TensorData::new(shape, data).map_err(|e| e.to_string())?;
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
        let inputs = self
            .batch_inputs(batch)
            .map_err(|e| TargetError::new(e.to_string()))?;
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
