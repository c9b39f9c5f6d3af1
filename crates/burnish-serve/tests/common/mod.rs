//! Shared helpers: an in-process server on 127.0.0.1:0 and raw HTTP calls.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use burnish_model::TensorData;
use burnish_serve::{Limits, ModelOptions, ModelSource, ServeConfig, Server};

/// A fixture model file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/models"
    ))
    .join(name)
}

/// Starts a server for `models` (file names under the fixtures) on an ephemeral port.
pub fn start(models: &[&str], options: ModelOptions, limits: Limits) -> Server {
    let sources = models
        .iter()
        .map(|m| ModelSource::from_path(&fixture(m)))
        .collect();
    let mut config = ServeConfig::new(sources);
    config.http = SocketAddr::from(([127, 0, 0, 1], 0));
    config.options = options;
    config.limits = limits;
    Server::start(config).expect("server starts")
}

/// One HTTP exchange.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn collect(mut resp: ureq::http::Response<ureq::Body>) -> Reply {
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Reply {
        status: resp.status().as_u16(),
        headers,
        body: resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .expect("body"),
    }
}

/// GET `path` on `server`.
pub fn get(server: &Server, path: &str) -> Reply {
    let url = format!("http://{}{path}", server.http_addr());
    collect(agent().get(&url).call().expect("GET"))
}

/// POST `body` to `path`, with `Inference-Header-Content-Length` when given.
pub fn post(server: &Server, path: &str, body: &[u8], header_len: Option<usize>) -> Reply {
    let url = format!("http://{}{path}", server.http_addr());
    let mut req = agent().post(&url);
    if let Some(n) = header_len {
        req = req.header("Inference-Header-Content-Length", n.to_string());
    }
    collect(req.send(body).expect("POST"))
}

/// The committed inputs and onnxruntime's outputs of a fixture.
pub fn reference(stem: &str) -> (BTreeMap<String, TensorData>, BTreeMap<String, TensorData>) {
    let read = |suffix: &str| {
        burnish_model::read_tensors(fixture(&format!("{stem}.{suffix}.npz"))).expect("npz")
    };
    (read("inputs"), read("outputs"))
}
