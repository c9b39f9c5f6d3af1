//! The v2 REST API on axum: health, metadata, infer (JSON and binary tensor data), and
//! Triton's model configuration and statistics extensions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::decode::{Limits, decode, split_body};
use crate::encode::encode;
use crate::error::RequestError;
use crate::model::ServedModel;
use crate::protocol::{EXTENSIONS, ErrorBody, HEADER_LENGTH, ServerMetadata};
use crate::stats::StatsBody;

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// Models by name.
    pub models: BTreeMap<String, Arc<ServedModel>>,
    /// Request limits.
    pub limits: Limits,
    /// Set once shutdown starts: readiness turns 503.
    pub stopping: AtomicBool,
}

impl AppState {
    fn model(&self, params: &HashMap<String, String>) -> Result<&Arc<ServedModel>, RequestError> {
        let name = params.get("m").map(String::as_str).unwrap_or_default();
        let model = self
            .models
            .get(name)
            .ok_or_else(|| RequestError::UnknownModel(name.to_string()))?;
        match params.get("v") {
            Some(v) if v != "1" => Err(RequestError::UnknownModel(format!("{name}` version `{v}"))),
            _ => Ok(model),
        }
    }

    fn ready(&self) -> Result<(), RequestError> {
        match self.stopping.load(Ordering::Relaxed) {
            true => Err(RequestError::Unavailable(
                "the server is shutting down".into(),
            )),
            false => Ok(()),
        }
    }
}

type Shared = State<Arc<AppState>>;
type Params = Path<HashMap<String, String>>;

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let model = "/v2/models/{m}";
    let version = "/v2/models/{m}/versions/{v}";
    let mut r = Router::new()
        .route("/v2/health/live", get(|| async { StatusCode::OK }))
        .route("/v2/health/ready", get(server_ready))
        .route("/v2", get(server_metadata))
        .route("/v2/models/stats", get(all_stats))
        .route("/metrics", get(metrics));
    for base in [model, version] {
        r = r
            .route(base, get(model_metadata))
            .route(&format!("{base}/ready"), get(model_ready))
            .route(&format!("{base}/config"), get(model_config))
            .route(&format!("{base}/stats"), get(model_stats))
            .route(&format!("{base}/infer"), post(infer));
    }
    r.fallback(not_found).with_state(state)
}

fn error(e: &RequestError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(
        status,
        &ErrorBody {
            error: e.to_string(),
        },
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    resp
}

async fn not_found(req: Request) -> Response {
    let error = format!("no endpoint {} {}", req.method(), req.uri().path());
    json(StatusCode::NOT_FOUND, &ErrorBody { error })
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn reply<T: Serialize>(result: Result<T, RequestError>) -> Response {
    match result {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => error(&e),
    }
}

async fn server_ready(State(st): Shared) -> Response {
    match st.ready() {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error(&e),
    }
}

async fn server_metadata() -> Response {
    json(
        StatusCode::OK,
        &ServerMetadata {
            name: "burnish".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            extensions: EXTENSIONS.iter().map(|s| s.to_string()).collect(),
        },
    )
}

async fn model_metadata(State(st): Shared, Path(p): Params) -> Response {
    reply(st.model(&p).map(|m| m.signature().metadata(m.name())))
}

async fn model_ready(State(st): Shared, Path(p): Params) -> Response {
    match st.model(&p).and_then(|_| st.ready()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error(&e),
    }
}

async fn model_config(State(st): Shared, Path(p): Params) -> Response {
    reply(st.model(&p).map(|m| {
        let o = m.options();
        let delay = o.max_queue_delay.as_micros() as u64;
        m.signature().config(m.name(), o.max_batch, delay)
    }))
}

async fn model_stats(State(st): Shared, Path(p): Params) -> Response {
    reply(st.model(&p).map(|m| StatsBody {
        model_stats: vec![m.stats().snapshot(m.name())],
    }))
}

/// A router serving only `/metrics` (for a separate `--metrics` address).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn metrics(State(st): Shared) -> Response {
    let text = crate::metrics::render(&st.models);
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    (StatusCode::OK, [(header::CONTENT_TYPE, kind)], text).into_response()
}

async fn all_stats(State(st): Shared) -> Response {
    json(
        StatusCode::OK,
        &StatsBody {
            model_stats: st
                .models
                .values()
                .map(|m| m.stats().snapshot(m.name()))
                .collect(),
        },
    )
}

async fn infer(State(st): Shared, Path(p): Params, req: Request) -> Response {
    let start = Instant::now();
    let model = match st.model(&p) {
        Ok(m) => m.clone(),
        Err(e) => return error(&e),
    };
    let result = infer_inner(&st, &model, req).await;
    model.stats().request(result.is_ok(), start.elapsed());
    match result {
        Ok(r) => r,
        Err(e) => error(&e),
    }
}

async fn infer_inner(
    st: &AppState,
    model: &ServedModel,
    req: Request,
) -> Result<Response, RequestError> {
    let limit = st.limits.max_body;
    let declared = content_length(req.headers());
    if let Some(size) = declared.filter(|&s| s > limit) {
        return Err(RequestError::TooLarge { size, limit });
    }
    let header_len = header_length(req.headers())?;
    let body = to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| RequestError::TooLarge {
            size: declared.unwrap_or(limit + 1),
            limit,
        })?;
    let (request, tail) = split_body(&body, header_len)?;
    let decoded = decode(model.signature(), &request, tail, &st.limits)?;
    let rx = model.submit(decoded.inputs)?;
    let outputs = rx
        .await
        .map_err(|_| RequestError::Internal("the request was dropped".into()))??;
    let encoded = encode(
        model.name(),
        request.id,
        model.signature(),
        &outputs,
        &decoded.outputs,
    )?;
    let mut builder = Response::builder().status(StatusCode::OK);
    builder = match encoded.header_len {
        Some(n) => builder
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(HEADER_LENGTH, n),
        None => builder.header(header::CONTENT_TYPE, "application/json"),
    };
    builder
        .body(Body::from(encoded.body))
        .map_err(|e| RequestError::Internal(e.to_string()))
}

fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn header_length(headers: &HeaderMap) -> Result<Option<usize>, RequestError> {
    let Some(v) = headers.get(HEADER_LENGTH) else {
        return Ok(None);
    };
    let n = v
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .ok_or_else(|| RequestError::bad("Inference-Header-Content-Length is not a number"))?;
    Ok((n > 0).then_some(n))
}
