//! Open Inference Protocol v2 (KServe v2 / Triton) JSON messages and datatype names.

use std::collections::BTreeMap;

use burnish_model::DType;
use serde::{Deserialize, Serialize};

/// Extensions this server advertises in `GET /v2`.
pub const EXTENSIONS: [&str; 3] = ["binary_tensor_data", "model_configuration", "statistics"];

/// The header giving the JSON part's length in a binary-data body.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

/// A `parameters` map: names to strings, numbers or booleans.
pub type Parameters = BTreeMap<String, serde_json::Value>;

/// `GET /v2`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerMetadata {
    /// Server name.
    pub name: String,
    /// Server version.
    pub version: String,
    /// Supported extensions.
    pub extensions: Vec<String>,
}

/// One tensor in model metadata: `-1` marks a variable dim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorMetadata {
    /// Tensor name.
    pub name: String,
    /// v2 datatype (`FP32`, `INT64`, ...).
    pub datatype: String,
    /// Dims, `-1` where variable.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/{m}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Model name.
    pub name: String,
    /// Available versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Platform string.
    #[serde(default)]
    pub platform: String,
    /// Inputs.
    pub inputs: Vec<TensorMetadata>,
    /// Outputs.
    pub outputs: Vec<TensorMetadata>,
}

/// One input of an infer request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestInput {
    /// Input name.
    pub name: String,
    /// Dims of this request's tensor (the whole batch).
    pub shape: Vec<i64>,
    /// v2 datatype.
    pub datatype: String,
    /// Parameters (`binary_data_size` for binary inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// Elements, flat or nested, row-major; absent for binary inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// One requested output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestOutput {
    /// Output name.
    pub name: String,
    /// Parameters (`binary_data: true` asks for binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
}

/// `POST /v2/models/{m}/infer` body (the JSON part).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferRequest {
    /// Request id, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Request parameters (`binary_data_output`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// Inputs.
    pub inputs: Vec<RequestInput>,
    /// Requested outputs (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<RequestOutput>>,
}

/// One output of an infer response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseOutput {
    /// Output name.
    pub name: String,
    /// Dims.
    pub shape: Vec<i64>,
    /// v2 datatype.
    pub datatype: String,
    /// Parameters (`binary_data_size` for binary outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Parameters>,
    /// Elements, flat; absent for binary outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// Infer response (the JSON part).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferResponse {
    /// Model name.
    pub model_name: String,
    /// Model version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The request's id, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Outputs.
    pub outputs: Vec<ResponseOutput>,
}

/// An error body: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

/// The v2 datatype name of `dtype` (`None`: no v2 form burnish serves).
pub fn datatype_name(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Bool => "BOOL",
        DType::U8 => "UINT8",
        DType::U16 => "UINT16",
        DType::U32 => "UINT32",
        DType::U64 => "UINT64",
        DType::I8 => "INT8",
        DType::I16 => "INT16",
        DType::I32 => "INT32",
        DType::I64 => "INT64",
        DType::F16 => "FP16",
        DType::BF16 => "BF16",
        DType::F32 => "FP32",
        DType::F64 => "FP64",
        _ => return None,
    })
}

/// The dtype of a v2 datatype name (`None`: unknown or unsupported, e.g. `BYTES`).
pub fn parse_datatype(name: &str) -> Option<DType> {
    [
        DType::Bool,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ]
    .into_iter()
    .find(|&d| datatype_name(d) == Some(name))
}

/// Triton's model-configuration `TYPE_*` name of a v2 datatype.
pub fn config_type_name(datatype: &str) -> String {
    match datatype {
        "FP16" | "FP32" | "FP64" => format!("TYPE_{datatype}"),
        "BYTES" => "TYPE_STRING".to_string(),
        other => format!("TYPE_{other}"),
    }
}

/// Whether `params[key]` is `true`.
pub fn flag(params: Option<&Parameters>, key: &str) -> bool {
    params
        .and_then(|p| p.get(key))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datatype_names_round_trip() {
        for name in ["BOOL", "UINT8", "INT32", "INT64", "FP16", "FP32", "FP64"] {
            let d = parse_datatype(name).expect(name);
            assert_eq!(datatype_name(d), Some(name));
        }
        assert_eq!(parse_datatype("BYTES"), None);
        assert_eq!(config_type_name("FP32"), "TYPE_FP32");
    }
}
