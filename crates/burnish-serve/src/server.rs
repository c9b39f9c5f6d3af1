//! Starting, running and stopping a server: models, the async runtime, the listener.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::sync::watch;

use crate::decode::Limits;
use crate::error::ServeError;
use crate::http::{AppState, metrics_router, router};
use crate::model::{ModelOptions, ServedModel};

/// A model to serve: its name and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSource {
    /// The name clients use.
    pub name: String,
    /// The ONNX file.
    pub path: PathBuf,
}

impl ModelSource {
    /// Named after the file stem.
    pub fn from_path(path: &Path) -> Self {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            name,
            path: path.to_path_buf(),
        }
    }
}

/// Models of a Triton-style repository: every `DIR/NAME/V/model.onnx`, the highest numeric
/// version `V` of each `NAME`.
pub fn repository(dir: &Path) -> Result<Vec<ModelSource>, ServeError> {
    let io = |source| ServeError::Io {
        context: format!("reading model repository `{}`", dir.display()),
        source,
    };
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let model_dir = entry.path();
        if !model_dir.is_dir() {
            continue;
        }
        let best = std::fs::read_dir(&model_dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .filter_map(|v| {
                let version: u64 = v.file_name().to_str()?.parse().ok()?;
                let file = v.path().join("model.onnx");
                file.is_file().then_some((version, file))
            })
            .max_by_key(|(v, _)| *v);
        if let Some((_, path)) = best {
            let name = entry.file_name().to_string_lossy().into_owned();
            out.push(ModelSource { name, path });
        }
    }
    if out.is_empty() {
        return Err(ServeError::Models(format!(
            "model repository `{}` has no NAME/VERSION/model.onnx",
            dir.display()
        )));
    }
    Ok(out)
}

/// Everything a server needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Models to serve.
    pub models: Vec<ModelSource>,
    /// How each model is served.
    pub options: ModelOptions,
    /// Request limits.
    pub limits: Limits,
    /// REST address (port 0 picks a free one).
    pub http: SocketAddr,
    /// gRPC address (`None`: no gRPC).
    pub grpc: Option<SocketAddr>,
    /// Prometheus `/metrics` on its own address too (it is always on the REST address).
    pub metrics: Option<SocketAddr>,
    /// Async runtime threads (network and protocol work only).
    pub io_threads: usize,
    /// How long shutdown waits for in-flight requests.
    pub drain_timeout: Duration,
}

impl ServeConfig {
    /// Defaults for `models`: loopback port 8000, default options and limits.
    pub fn new(models: Vec<ModelSource>) -> Self {
        Self {
            models,
            options: ModelOptions::default(),
            limits: Limits::default(),
            http: SocketAddr::from(([127, 0, 0, 1], 8000)),
            grpc: None,
            metrics: None,
            io_threads: 2,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// A running server.
pub struct Server {
    state: Arc<AppState>,
    http: SocketAddr,
    grpc: Option<SocketAddr>,
    metrics: Option<SocketAddr>,
    runtime: tokio::runtime::Runtime,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    drain_timeout: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads and warms up every model, then listens (ready from then on).
    pub fn start(config: ServeConfig) -> Result<Self, ServeError> {
        let mut models = BTreeMap::new();
        for source in &config.models {
            if models.contains_key(&source.name) {
                return Err(ServeError::Models(format!(
                    "two models are named `{}` (use --name NAME=FILE)",
                    source.name
                )));
            }
            let model = ServedModel::load(&source.name, &source.path, config.options.clone())?;
            models.insert(source.name.clone(), Arc::new(model));
        }
        if models.is_empty() {
            return Err(ServeError::Models("no model to serve".into()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.io_threads.max(1))
            .thread_name("serve-io")
            .enable_all()
            .build()
            .map_err(|source| ServeError::Io {
                context: "starting the async runtime".into(),
                source,
            })?;
        let (listener, http) = bind(&runtime, config.http)?;
        let metrics_listener = config.metrics.map(|a| bind(&runtime, a)).transpose()?;
        let grpc_listener = config.grpc.map(|a| bind(&runtime, a)).transpose()?;
        let state = Arc::new(AppState {
            models,
            limits: config.limits,
            stopping: false.into(),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks =
            vec![runtime.spawn(serve(listener, router(state.clone()), stopped.clone()))];
        let metrics = metrics_listener.map(|(listener, addr)| {
            tasks.push(runtime.spawn(serve(
                listener,
                metrics_router(state.clone()),
                stopped.clone(),
            )));
            addr
        });
        let grpc = grpc_listener.map(|(listener, addr)| {
            let limit = config.limits.max_body;
            let state = state.clone();
            tasks.push(runtime.spawn(async move {
                serve_grpc(listener, state, limit, stopped)
                    .await
                    .map_err(std::io::Error::other)
            }));
            addr
        });
        Ok(Self {
            state,
            http,
            grpc,
            metrics,
            runtime,
            stop,
            tasks,
            drain_timeout: config.drain_timeout,
        })
    }

    /// The REST address actually bound.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The gRPC address actually bound, when asked for.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    /// The separate metrics address actually bound, when asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
    }

    /// The served models by name.
    pub fn models(&self) -> &BTreeMap<String, Arc<ServedModel>> {
        &self.state.models
    }

    /// Blocks until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub fn run_until_signal(self) -> Result<(), ServeError> {
        self.runtime.block_on(shutdown_signal());
        self.shutdown();
        Ok(())
    }

    /// Stops accepting connections, answers every in-flight request (up to the drain
    /// timeout), then stops the model threads after their queues empty.
    pub fn shutdown(mut self) {
        self.state.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        let timeout = self.drain_timeout;
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(timeout, async {
                for task in tasks {
                    let _ = task.await;
                }
            })
            .await
        });
        for model in self.state.models.values() {
            model.shutdown();
        }
    }
}

fn bind(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
) -> Result<(tokio::net::TcpListener, SocketAddr), ServeError> {
    let err = |source| ServeError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(err)?;
    let local = listener.local_addr().map_err(err)?;
    Ok((listener, local))
}

async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await
}

async fn serve_grpc(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    limit: usize,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), tonic::transport::Error> {
    use crate::grpc::{GrpcInferenceServiceServer, Service};
    let service = GrpcInferenceServiceServer::new(Service::new(state))
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
