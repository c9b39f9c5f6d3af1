//! # burnish-serve
//!
//! Serves ONNX models over the Open Inference Protocol v2 (KServe v2, Triton's HTTP/REST
//! protocol) and load-tests any v2 server from burnish-bench's scenarios.
//!
//! - [`Server`]: the REST API on axum (health, metadata, infer with JSON or the binary tensor
//!   data extension, Triton's `/config` and `/stats`), several models at once, each on its own
//!   [`burnish_runtime::Session`] run by dedicated OS threads with a bounded queue and dynamic
//!   batching ([`ModelOptions`]).
//! - [`remote::RemoteTarget`]: a [`burnish_bench::Target`] that sends each query to a v2 server.
//!
//! Every request is checked against the model before any tensor memory is allocated
//! ([`decode::decode`]); bad ones get 400 with a message naming the input and the problem.

pub mod client;
pub mod decode;
pub mod encode;
pub mod error;
pub mod grpc;
mod http;
pub mod metrics;
pub mod model;
pub mod protocol;
pub mod remote;
mod server;
pub mod signature;
pub mod stats;

pub use decode::Limits;
pub use error::{ClientError, RequestError, ResponseError, ServeError, SignatureError};
pub use model::{ModelOptions, ServedModel};
pub use server::{ModelSource, ServeConfig, Server, repository};
