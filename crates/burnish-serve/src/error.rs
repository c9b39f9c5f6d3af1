//! Error types: [`ServeError`] for starting a server, [`RequestError`] for one request,
//! [`ClientError`] for the v2 client, [`ResponseError`] for decoding an infer response and
//! [`SignatureError`] for a model the v2 protocol cannot describe.

use std::path::PathBuf;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A model file could not be loaded.
    #[error("`{path}`: {source}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// The loader's error.
        #[source]
        source: burnish_model::ModelError,
    },
    /// A model could not be compiled or warmed up.
    #[error("`{path}`: {message}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The model list or repository is wrong (duplicate names, empty repository, ...).
    #[error("{0}")]
    Models(String),
    /// A listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Any other I/O error (reading a repository, the async runtime).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Why one request failed, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// Malformed or invalid request (400).
    #[error("{0}")]
    BadRequest(String),
    /// No such model (404).
    #[error("unknown model `{0}`")]
    UnknownModel(String),
    /// The body is over the limit (413).
    #[error("request body of {size} bytes is over the limit of {limit} bytes")]
    TooLarge {
        /// Body bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The model's queue is full or the request waited past the queue timeout (429).
    #[error("{0}")]
    Overloaded(String),
    /// The model is not ready or the server is shutting down (503).
    #[error("{0}")]
    Unavailable(String),
    /// Inference failed (500).
    #[error("{0}")]
    Internal(String),
}

impl RequestError {
    /// A 400 error.
    pub fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::UnknownModel(_) => 404,
            Self::TooLarge { .. } => 413,
            Self::Overloaded(_) => 429,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }
}

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Transport error (connect, read, write).
    #[error("{url}: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The server's error message.
        message: String,
    },
    /// The answer was not what the protocol says.
    #[error("{url}: {message}")]
    Protocol {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Input data could not be built.
    #[error("{0}")]
    Inputs(String),
    /// The model's fixed leading dim rules out the batch asked for.
    #[error("input `{input}` has a fixed batch of {fixed}")]
    FixedBatch {
        /// The first input.
        input: String,
        /// Its fixed leading dim.
        fixed: i64,
    },
}

/// Why an infer response body could not be decoded ([`crate::client::decode_response`]). It
/// names no URL: [`crate::client::Client::infer`] wraps it in [`ClientError::Protocol`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The JSON header is not an infer response.
    #[error("invalid response JSON: {0}")]
    Json(String),
    /// An output's datatype is not a v2 datatype burnish reads.
    #[error("output `{output}`: datatype `{datatype}`")]
    Datatype {
        /// The output.
        output: String,
        /// Its datatype.
        datatype: String,
    },
    /// An output's binary data runs past the end of the body.
    #[error("output `{output}`: binary data past the body")]
    PastBody {
        /// The output.
        output: String,
    },
    /// An output with neither JSON nor binary data.
    #[error("output `{output}` has no data")]
    NoData {
        /// The output.
        output: String,
    },
    /// An output's data are not elements of its datatype.
    #[error("{0}")]
    Data(String),
    /// An output's data do not fill its shape.
    #[error("output `{output}`: {message}")]
    Shape {
        /// The output.
        output: String,
        /// What is wrong.
        message: String,
    },
}

/// A model input the v2 protocol cannot carry ([`crate::signature::Signature::new`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input `{input}` has a type v2 cannot carry")]
pub struct SignatureError {
    /// The input.
    pub input: String,
}
