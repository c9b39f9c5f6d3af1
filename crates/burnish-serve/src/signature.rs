//! What a served model takes and returns, and its v2 metadata and Triton configuration.

use burnish_model::{DType, Dim, Graph, TensorData};
use serde_json::json;

use crate::error::SignatureError;
use crate::protocol::{ModelMetadata, TensorMetadata, config_type_name, datatype_name};

/// The platform string of models served by burnish.
pub const PLATFORM: &str = "onnxruntime_onnx";

/// One input or output.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// Name.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dims when the rank is known.
    pub dims: Option<Vec<Dim>>,
}

impl TensorSpec {
    /// The v2 datatype name (`FP32`, ...).
    pub fn datatype(&self) -> &'static str {
        datatype_name(self.dtype).unwrap_or("BYTES")
    }

    /// Dims with `-1` for variable ones (an unknown rank gives `[-1]`).
    pub fn v2_shape(&self) -> Vec<i64> {
        match &self.dims {
            None => vec![-1],
            Some(dims) => dims
                .iter()
                .map(|d| match d {
                    Dim::Fixed(n) => *n as i64,
                    _ => -1,
                })
                .collect(),
        }
    }

    fn metadata(&self) -> TensorMetadata {
        TensorMetadata {
            name: self.name.clone(),
            datatype: self.datatype().to_string(),
            shape: self.v2_shape(),
        }
    }

    fn config(&self, batched: bool) -> serde_json::Value {
        let shape = self.v2_shape();
        let dims = if batched { &shape[1..] } else { &shape[..] };
        json!({"name": self.name, "data_type": config_type_name(self.datatype()), "dims": dims})
    }
}

/// A model's inputs and outputs, and whether requests can be concatenated along dim 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// Inputs, in graph order.
    pub inputs: Vec<TensorSpec>,
    /// Outputs, in graph order.
    pub outputs: Vec<TensorSpec>,
    /// Every input and output has a symbolic leading dim (the batch).
    pub batchable: bool,
}

impl Signature {
    /// The signature of `graph`; output types the graph leaves undeclared come from
    /// `sample_outputs` (a warm-up run's outputs, in graph order).
    pub fn new(graph: &Graph, sample_outputs: &[TensorData]) -> Result<Self, SignatureError> {
        let inputs = graph
            .inputs
            .iter()
            .map(|i| {
                let dtype = i
                    .dtype
                    .filter(|&d| datatype_name(d).is_some())
                    .ok_or_else(|| SignatureError {
                        input: i.name.clone(),
                    })?;
                Ok(TensorSpec {
                    name: i.name.clone(),
                    dtype,
                    dims: i.shape.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = graph
            .outputs
            .iter()
            .zip(sample_outputs)
            .map(|(o, t)| TensorSpec {
                name: o.name.clone(),
                dtype: o.dtype.unwrap_or(t.dtype()),
                dims: o.shape.clone(),
            })
            .collect::<Vec<_>>();
        let leading_free =
            |s: &TensorSpec| matches!(s.dims.as_deref(), Some([Dim::Symbolic(_), ..]));
        let batchable = !inputs.is_empty()
            && inputs.iter().all(leading_free)
            && outputs.iter().all(leading_free);
        Ok(Self {
            inputs,
            outputs,
            batchable,
        })
    }

    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&TensorSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The output named `name`.
    pub fn output(&self, name: &str) -> Option<&TensorSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// Input names for messages: "`a`, `b`".
    pub fn input_names(&self) -> String {
        names(&self.inputs)
    }

    /// Output names for messages.
    pub fn output_names(&self) -> String {
        names(&self.outputs)
    }

    /// v2 model metadata.
    pub fn metadata(&self, name: &str) -> ModelMetadata {
        ModelMetadata {
            name: name.to_string(),
            versions: vec!["1".to_string()],
            platform: PLATFORM.to_string(),
            inputs: self.inputs.iter().map(TensorSpec::metadata).collect(),
            outputs: self.outputs.iter().map(TensorSpec::metadata).collect(),
        }
    }

    /// Triton's model configuration: dims leave out the batch dim when `max_batch_size` > 0.
    pub fn config(&self, name: &str, max_batch: usize, delay_us: u64) -> serde_json::Value {
        let max_batch_size = if self.batchable { max_batch.max(1) } else { 0 };
        let batched = max_batch_size > 0;
        let mut config = json!({
            "name": name,
            "platform": PLATFORM,
            "backend": "onnxruntime",
            "version_policy": {"latest": {"num_versions": 1}},
            "max_batch_size": max_batch_size,
            "input": self.inputs.iter().map(|i| i.config(batched)).collect::<Vec<_>>(),
            "output": self.outputs.iter().map(|o| o.config(batched)).collect::<Vec<_>>(),
        });
        if batched && max_batch > 1 {
            config["dynamic_batching"] = json!({"max_queue_delay_microseconds": delay_us});
        }
        config
    }
}

fn names(specs: &[TensorSpec]) -> String {
    specs
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect::<Vec<_>>()
        .join(", ")
}
