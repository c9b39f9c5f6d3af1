//! The v2 gRPC API (Triton's `inference.GRPCInferenceService`, vendored in `proto/`): health,
//! metadata, ModelInfer with raw or typed contents, ModelConfig and ModelStatistics. Requests
//! go through the same checks and model queues as REST.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use crate::decode::decode;
use crate::error::RequestError;
use crate::http::AppState;
use crate::model::ServedModel;
use crate::protocol::{EXTENSIONS, InferRequest};

mod convert;

use convert::{as_rest, config, statistics};

/// Code generated from Triton's protos.
#[allow(missing_docs, clippy::all)]
pub mod pb {
    tonic::include_proto!("inference");
}

/// Decodes a `ModelInferRequest` message into the REST request and binary section that
/// [`crate::decode::decode`] checks, as the ModelInfer endpoint does (its fuzz target's entry).
pub fn infer_request_from_bytes(bytes: &[u8]) -> Result<(InferRequest, Vec<u8>), Status> {
    let req = <pb::ModelInferRequest as prost::Message>::decode(bytes)
        .map_err(|e| Status::invalid_argument(format!("ModelInferRequest: {e}")))?;
    as_rest(&req)
}

use pb::grpc_inference_service_server::GrpcInferenceService;
pub use pb::grpc_inference_service_server::GrpcInferenceServiceServer;

/// The service over the shared server state.
#[derive(Debug, Clone)]
pub struct Service {
    state: Arc<AppState>,
}

impl Service {
    /// A service over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    fn model(&self, name: &str, version: &str) -> Result<&Arc<ServedModel>, Status> {
        let model = self
            .state
            .models
            .get(name)
            .ok_or_else(|| status(&RequestError::UnknownModel(name.to_string())))?;
        match version {
            "" | "1" => Ok(model),
            v => Err(Status::not_found(format!(
                "model `{name}` has no version `{v}`"
            ))),
        }
    }
}

fn status(e: &RequestError) -> Status {
    let m = e.to_string();
    match e {
        RequestError::BadRequest(_) => Status::invalid_argument(m),
        RequestError::UnknownModel(_) => Status::not_found(m),
        RequestError::TooLarge { .. } | RequestError::Overloaded(_) => {
            Status::resource_exhausted(m)
        }
        RequestError::Unavailable(_) => Status::unavailable(m),
        RequestError::Internal(_) => Status::internal(m),
    }
}

fn unimplemented<T>(what: &str) -> Result<Response<T>, Status> {
    Err(Status::unimplemented(format!(
        "{what} is not supported by burnish"
    )))
}

async fn infer(
    st: &AppState,
    model: &ServedModel,
    req: &pb::ModelInferRequest,
) -> Result<pb::ModelInferResponse, Status> {
    let (request, tail) = as_rest(req)?;
    let decoded = decode(model.signature(), &request, &tail, &st.limits).map_err(|e| status(&e))?;
    let rx = model.submit(decoded.inputs).map_err(|e| status(&e))?;
    let outputs = rx
        .await
        .map_err(|_| Status::internal("the request was dropped"))?
        .map_err(|e| status(&e))?;
    let mut response = pb::ModelInferResponse {
        model_name: model.name().to_string(),
        model_version: "1".into(),
        id: req.id.clone(),
        ..Default::default()
    };
    for choice in &decoded.outputs {
        let index = model
            .signature()
            .outputs
            .iter()
            .position(|o| o.name == choice.name);
        let t = index.and_then(|i| outputs.get(i)).ok_or_else(|| {
            Status::internal(format!("output `{}` was not produced", choice.name))
        })?;
        let datatype = crate::protocol::datatype_name(t.dtype())
            .ok_or_else(|| Status::internal(format!("output `{}` has no v2 type", choice.name)))?;
        let bytes = t
            .data
            .to_le_bytes()
            .ok_or_else(|| Status::internal(format!("output `{}` has no raw form", choice.name)))?;
        response
            .outputs
            .push(pb::model_infer_response::InferOutputTensor {
                name: choice.name.clone(),
                datatype: datatype.into(),
                shape: t.shape.iter().map(|&d| d as i64).collect(),
                ..Default::default()
            });
        response.raw_output_contents.push(bytes);
    }
    Ok(response)
}

#[tonic::async_trait]
impl GrpcInferenceService for Service {
    async fn server_live(
        &self,
        _: Request<pb::ServerLiveRequest>,
    ) -> Result<Response<pb::ServerLiveResponse>, Status> {
        Ok(Response::new(pb::ServerLiveResponse { live: true }))
    }

    async fn server_ready(
        &self,
        _: Request<pb::ServerReadyRequest>,
    ) -> Result<Response<pb::ServerReadyResponse>, Status> {
        let ready = !self
            .state
            .stopping
            .load(std::sync::atomic::Ordering::Relaxed);
        Ok(Response::new(pb::ServerReadyResponse { ready }))
    }

    async fn model_ready(
        &self,
        r: Request<pb::ModelReadyRequest>,
    ) -> Result<Response<pb::ModelReadyResponse>, Status> {
        let r = r.into_inner();
        let ready = self.model(&r.name, &r.version).is_ok()
            && !self
                .state
                .stopping
                .load(std::sync::atomic::Ordering::Relaxed);
        Ok(Response::new(pb::ModelReadyResponse { ready }))
    }

    async fn server_metadata(
        &self,
        _: Request<pb::ServerMetadataRequest>,
    ) -> Result<Response<pb::ServerMetadataResponse>, Status> {
        Ok(Response::new(pb::ServerMetadataResponse {
            name: "burnish".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            extensions: EXTENSIONS.iter().map(|s| s.to_string()).collect(),
        }))
    }

    async fn model_metadata(
        &self,
        r: Request<pb::ModelMetadataRequest>,
    ) -> Result<Response<pb::ModelMetadataResponse>, Status> {
        let r = r.into_inner();
        let m = self.model(&r.name, &r.version)?;
        let meta = m.signature().metadata(m.name());
        let tensor =
            |t: crate::protocol::TensorMetadata| pb::model_metadata_response::TensorMetadata {
                name: t.name,
                datatype: t.datatype,
                shape: t.shape,
            };
        Ok(Response::new(pb::ModelMetadataResponse {
            name: meta.name,
            versions: meta.versions,
            platform: meta.platform,
            inputs: meta.inputs.into_iter().map(tensor).collect(),
            outputs: meta.outputs.into_iter().map(tensor).collect(),
        }))
    }

    async fn model_infer(
        &self,
        r: Request<pb::ModelInferRequest>,
    ) -> Result<Response<pb::ModelInferResponse>, Status> {
        let start = Instant::now();
        let r = r.into_inner();
        let model = self.model(&r.model_name, &r.model_version)?.clone();
        let result = infer(&self.state, &model, &r).await;
        model.stats().request(result.is_ok(), start.elapsed());
        result.map(Response::new)
    }

    type ModelStreamInferStream = tonic::codegen::BoxStream<pb::ModelStreamInferResponse>;

    async fn model_stream_infer(
        &self,
        _: Request<tonic::Streaming<pb::ModelInferRequest>>,
    ) -> Result<Response<Self::ModelStreamInferStream>, Status> {
        unimplemented("ModelStreamInfer")
    }

    async fn model_config(
        &self,
        r: Request<pb::ModelConfigRequest>,
    ) -> Result<Response<pb::ModelConfigResponse>, Status> {
        let r = r.into_inner();
        let m = self.model(&r.name, &r.version)?;
        Ok(Response::new(pb::ModelConfigResponse {
            config: Some(config(m)),
        }))
    }

    async fn model_statistics(
        &self,
        r: Request<pb::ModelStatisticsRequest>,
    ) -> Result<Response<pb::ModelStatisticsResponse>, Status> {
        let r = r.into_inner();
        let models: Vec<&Arc<ServedModel>> = if r.name.is_empty() {
            self.state.models.values().collect()
        } else {
            vec![self.model(&r.name, &r.version)?]
        };
        Ok(Response::new(pb::ModelStatisticsResponse {
            model_stats: models
                .into_iter()
                .map(|m| statistics(m.stats().snapshot(m.name())))
                .collect(),
        }))
    }

    async fn repository_index(
        &self,
        _: Request<pb::RepositoryIndexRequest>,
    ) -> Result<Response<pb::RepositoryIndexResponse>, Status> {
        unimplemented("RepositoryIndex")
    }

    async fn repository_model_load(
        &self,
        _: Request<pb::RepositoryModelLoadRequest>,
    ) -> Result<Response<pb::RepositoryModelLoadResponse>, Status> {
        unimplemented("RepositoryModelLoad")
    }

    async fn repository_model_unload(
        &self,
        _: Request<pb::RepositoryModelUnloadRequest>,
    ) -> Result<Response<pb::RepositoryModelUnloadResponse>, Status> {
        unimplemented("RepositoryModelUnload")
    }

    async fn system_shared_memory_status(
        &self,
        _: Request<pb::SystemSharedMemoryStatusRequest>,
    ) -> Result<Response<pb::SystemSharedMemoryStatusResponse>, Status> {
        unimplemented("shared memory")
    }

    async fn system_shared_memory_register(
        &self,
        _: Request<pb::SystemSharedMemoryRegisterRequest>,
    ) -> Result<Response<pb::SystemSharedMemoryRegisterResponse>, Status> {
        unimplemented("shared memory")
    }

    async fn system_shared_memory_unregister(
        &self,
        _: Request<pb::SystemSharedMemoryUnregisterRequest>,
    ) -> Result<Response<pb::SystemSharedMemoryUnregisterResponse>, Status> {
        unimplemented("shared memory")
    }

    async fn cuda_shared_memory_status(
        &self,
        _: Request<pb::CudaSharedMemoryStatusRequest>,
    ) -> Result<Response<pb::CudaSharedMemoryStatusResponse>, Status> {
        unimplemented("CUDA shared memory")
    }

    async fn cuda_shared_memory_register(
        &self,
        _: Request<pb::CudaSharedMemoryRegisterRequest>,
    ) -> Result<Response<pb::CudaSharedMemoryRegisterResponse>, Status> {
        unimplemented("CUDA shared memory")
    }

    async fn cuda_shared_memory_unregister(
        &self,
        _: Request<pb::CudaSharedMemoryUnregisterRequest>,
    ) -> Result<Response<pb::CudaSharedMemoryUnregisterResponse>, Status> {
        unimplemented("CUDA shared memory")
    }

    async fn trace_setting(
        &self,
        _: Request<pb::TraceSettingRequest>,
    ) -> Result<Response<pb::TraceSettingResponse>, Status> {
        unimplemented("TraceSetting")
    }

    async fn log_settings(
        &self,
        _: Request<pb::LogSettingsRequest>,
    ) -> Result<Response<pb::LogSettingsResponse>, Status> {
        unimplemented("LogSettings")
    }
}
