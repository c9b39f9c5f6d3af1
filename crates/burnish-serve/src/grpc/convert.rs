//! Conversions between the gRPC messages and the REST request, statistics and configuration.

use tonic::Status;

use super::pb;
use crate::model::ServedModel;
use crate::protocol::{InferRequest, Parameters, RequestInput, RequestOutput, config_type_name};
use crate::stats::{Duration64, ModelStats};

fn parameter_json(p: &pb::InferParameter) -> serde_json::Value {
    use pb::infer_parameter::ParameterChoice as C;
    match &p.parameter_choice {
        Some(C::BoolParam(b)) => serde_json::Value::Bool(*b),
        Some(C::Int64Param(i)) => serde_json::Value::from(*i),
        Some(C::StringParam(s)) => serde_json::Value::from(s.as_str()),
        Some(C::DoubleParam(d)) => serde_json::Value::from(*d),
        Some(C::Uint64Param(u)) => serde_json::Value::from(*u),
        None => serde_json::Value::Null,
    }
}

fn contents_json(c: &pb::InferTensorContents) -> serde_json::Value {
    use serde_json::Value as J;
    let mut items: Vec<J> = Vec::new();
    items.extend(c.bool_contents.iter().map(|&b| J::Bool(b)));
    items.extend(c.int_contents.iter().map(|&x| J::from(x)));
    items.extend(c.int64_contents.iter().map(|&x| J::from(x)));
    items.extend(c.uint_contents.iter().map(|&x| J::from(x)));
    items.extend(c.uint64_contents.iter().map(|&x| J::from(x)));
    items.extend(c.fp32_contents.iter().map(|&x| J::from(x as f64)));
    items.extend(c.fp64_contents.iter().map(|&x| J::from(x)));
    J::Array(items)
}

/// The gRPC request as the REST request `decode` checks, plus its raw bytes in order.
pub(super) fn as_rest(req: &pb::ModelInferRequest) -> Result<(InferRequest, Vec<u8>), Status> {
    let raw = &req.raw_input_contents;
    if !raw.is_empty() && raw.len() != req.inputs.len() {
        return Err(Status::invalid_argument(format!(
            "{} raw_input_contents for {} inputs",
            raw.len(),
            req.inputs.len()
        )));
    }
    let mut tail = Vec::with_capacity(raw.iter().map(Vec::len).sum());
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for (k, i) in req.inputs.iter().enumerate() {
        let mut params: Parameters = i
            .parameters
            .iter()
            .map(|(n, p)| (n.clone(), parameter_json(p)))
            .collect();
        let data = match (raw.get(k), &i.contents) {
            (Some(_), Some(_)) => {
                return Err(Status::invalid_argument(format!(
                    "input `{}` has both contents and raw_input_contents",
                    i.name
                )));
            }
            (Some(bytes), None) => {
                params.insert("binary_data_size".into(), bytes.len().into());
                tail.extend_from_slice(bytes);
                None
            }
            (None, Some(c)) => Some(contents_json(c)),
            (None, None) => Some(serde_json::Value::Array(Vec::new())),
        };
        inputs.push(RequestInput {
            name: i.name.clone(),
            shape: i.shape.clone(),
            datatype: i.datatype.clone(),
            parameters: Some(params),
            data,
        });
    }
    let outputs = (!req.outputs.is_empty()).then(|| {
        req.outputs
            .iter()
            .map(|o| RequestOutput {
                name: o.name.clone(),
                parameters: None,
            })
            .collect()
    });
    let request = InferRequest {
        id: (!req.id.is_empty()).then(|| req.id.clone()),
        parameters: None,
        inputs,
        outputs,
    };
    Ok((request, tail))
}

fn duration(d: Duration64) -> Option<pb::StatisticDuration> {
    Some(pb::StatisticDuration {
        count: d.count,
        ns: d.ns,
    })
}

pub(super) fn statistics(s: ModelStats) -> pb::ModelStatistics {
    let i = s.inference_stats;
    pb::ModelStatistics {
        name: s.name,
        version: s.version,
        last_inference: s.last_inference,
        inference_count: s.inference_count,
        execution_count: s.execution_count,
        inference_stats: Some(pb::InferStatistics {
            success: duration(i.success),
            fail: duration(i.fail),
            queue: duration(i.queue),
            compute_input: duration(i.compute_input),
            compute_infer: duration(i.compute_infer),
            compute_output: duration(i.compute_output),
            cache_hit: duration(i.cache_hit),
            cache_miss: duration(i.cache_miss),
        }),
        batch_stats: s
            .batch_stats
            .into_iter()
            .map(|b| pb::InferBatchStatistics {
                batch_size: b.batch_size,
                compute_input: duration(b.compute_input),
                compute_infer: duration(b.compute_infer),
                compute_output: duration(b.compute_output),
            })
            .collect(),
        ..Default::default()
    }
}

pub(super) fn config(model: &ServedModel) -> pb::ModelConfig {
    let o = model.options();
    let sig = model.signature();
    let batched = sig.batchable;
    let dims = |shape: Vec<i64>| if batched { shape[1..].to_vec() } else { shape };
    let dtype =
        |d: &str| pb::DataType::from_str_name(&config_type_name(d)).unwrap_or_default() as i32;
    pb::ModelConfig {
        name: model.name().to_string(),
        platform: crate::signature::PLATFORM.into(),
        backend: "onnxruntime".into(),
        max_batch_size: if batched {
            o.max_batch.max(1) as i32
        } else {
            0
        },
        input: sig
            .inputs
            .iter()
            .map(|i| pb::ModelInput {
                name: i.name.clone(),
                data_type: dtype(i.datatype()),
                dims: dims(i.v2_shape()),
                ..Default::default()
            })
            .collect(),
        output: sig
            .outputs
            .iter()
            .map(|i| pb::ModelOutput {
                name: i.name.clone(),
                data_type: dtype(i.datatype()),
                dims: dims(i.v2_shape()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}
