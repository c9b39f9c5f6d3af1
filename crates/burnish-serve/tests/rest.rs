//! The v2 REST surface of an in-process server: golden bodies, outputs against the session
//! and onnxruntime, binary round trips, and every bad-request class.

mod common;

use burnish_runtime::{Session, SessionOptions};
use burnish_serve::client::{Client, Format, encode_request};
use burnish_serve::{Limits, ModelOptions};
use common::{get, post, reference, start};
use serde_json::json;

fn digits() -> burnish_serve::Server {
    start(
        &["digits_cnn.onnx"],
        ModelOptions::default(),
        Limits {
            max_elements: 64 * 100,
            max_body: 200_000,
        },
    )
}

#[test]
fn health_metadata_config_and_stats_have_golden_bodies() {
    let server = digits();
    for path in [
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/digits_cnn/ready",
    ] {
        let r = get(&server, path);
        assert_eq!((r.status, r.body.len()), (200, 0), "{path}");
    }
    let r = get(&server, "/v2");
    assert_eq!(
        r.json(),
        json!({"name": "burnish", "version": env!("CARGO_PKG_VERSION"),
               "extensions": ["binary_tensor_data", "model_configuration", "statistics"]})
    );
    let meta = json!({"name": "digits_cnn", "versions": ["1"], "platform": "onnxruntime_onnx",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}],
        "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 10]}]});
    assert_eq!(get(&server, "/v2/models/digits_cnn").json(), meta);
    assert_eq!(
        get(&server, "/v2/models/digits_cnn/versions/1").json(),
        meta
    );
    assert_eq!(
        get(&server, "/v2/models/digits_cnn/config").json(),
        json!({"name": "digits_cnn", "platform": "onnxruntime_onnx", "backend": "onnxruntime",
               "version_policy": {"latest": {"num_versions": 1}}, "max_batch_size": 1,
               "input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [1, 8, 8]}],
               "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [10]}]})
    );
    let r = get(&server, "/v2/models/nope");
    assert_eq!(
        (r.status, r.json()),
        (404, json!({"error": "unknown model `nope`"}))
    );
    assert_eq!(get(&server, "/v2/models/digits_cnn/versions/2").status, 404);
    assert_eq!(get(&server, "/v2/nothing").status, 404);

    let stats = get(&server, "/v2/models/digits_cnn/stats").json();
    assert_eq!(stats["model_stats"][0]["name"], "digits_cnn");
    assert_eq!(stats["model_stats"][0]["inference_count"], 0);
    let (inputs, _) = reference("digits_cnn");
    let inputs: Vec<_> = inputs.into_iter().collect();
    Client::new(&format!("http://{}", server.http_addr()))
        .infer("digits_cnn", &inputs, Format::Json)
        .expect("infer");
    let all = get(&server, "/v2/models/stats").json();
    let s = &all["model_stats"][0];
    assert_eq!(
        (s["inference_count"].as_u64(), s["execution_count"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(s["inference_stats"]["success"]["count"], 1);
    assert_eq!(s["batch_stats"][0]["batch_size"], 2);
    server.shutdown();
}

#[test]
fn outputs_equal_the_session_and_onnxruntime_in_json_and_binary() {
    let server = digits();
    let (inputs, expected) = reference("digits_cnn");
    let model = burnish_model::load_onnx(common::fixture("digits_cnn.onnx")).expect("model");
    let direct = Session::new(&model, SessionOptions::default())
        .expect("session")
        .run(&inputs)
        .expect("run");
    let client = Client::new(&format!("http://{}", server.http_addr()));
    let list: Vec<_> = inputs.clone().into_iter().collect();
    for format in [Format::Json, Format::Binary] {
        let out = client.infer("digits_cnn", &list, format).expect("infer");
        assert_eq!(out.len(), 1);
        let (name, got) = &out[0];
        assert_eq!(name, "logits");
        assert_eq!(
            got, &direct["logits"],
            "{format:?}: same as the session, bit for bit"
        );
        let want = expected["logits"].as_f32().expect("f32");
        for (a, b) in got.as_f32().expect("f32").iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{format:?}: {a} vs ort {b}"
            );
        }
    }
    let body = encode_request(&list, Format::Binary).expect("encode");
    let r = post(
        &server,
        "/v2/models/digits_cnn/infer",
        &body.body,
        body.header_len,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    let n: usize = r
        .header("inference-header-content-length")
        .expect("header")
        .parse()
        .unwrap();
    let head: serde_json::Value = serde_json::from_slice(&r.body[..n]).expect("head");
    assert_eq!(
        head["outputs"][0]["parameters"]["binary_data_size"],
        2 * 10 * 4
    );
    assert_eq!(r.body.len() - n, 80);
    let mut json_req = serde_json::to_value(
        serde_json::from_slice::<serde_json::Value>(
            &encode_request(&list, Format::Json).unwrap().body,
        )
        .unwrap(),
    )
    .unwrap();
    json_req["id"] = json!("req-7");
    json_req["outputs"] = json!([{"name": "logits", "parameters": {"binary_data": true}}]);
    let bytes = serde_json::to_vec(&json_req).unwrap();
    let r = post(&server, "/v2/models/digits_cnn/infer", &bytes, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let n: usize = r
        .header("inference-header-content-length")
        .unwrap()
        .parse()
        .unwrap();
    let head: serde_json::Value = serde_json::from_slice(&r.body[..n]).unwrap();
    assert_eq!(head["id"], "req-7");
    let got: Vec<f32> = r.body[n..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got, direct["logits"].as_f32().unwrap());
    server.shutdown();
}

fn input(shape: serde_json::Value, datatype: &str, n: usize) -> serde_json::Value {
    json!({"name": "input", "shape": shape, "datatype": datatype, "data": vec![0.5; n]})
}

#[test]
fn bad_requests_get_400_or_413_naming_the_problem() {
    let server = digits();
    let ok = input(json!([1, 1, 8, 8]), "FP32", 64);
    let cases = [
        (
            json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}),
            "unknown input `x`",
        ),
        (json!({"inputs": []}), "missing input `input`"),
        (
            json!({"inputs": [ok.clone(), ok.clone()]}),
            "given more than once",
        ),
        (
            json!({"inputs": [input(json!([1, 1, 8, 8]), "FP64", 64)]}),
            "datatype FP64 but the model takes FP32",
        ),
        (
            json!({"inputs": [input(json!([1, 1, 8, 8]), "BYTES", 64)]}),
            "datatype `BYTES` is not supported",
        ),
        (
            json!({"inputs": [input(json!([1, 64]), "FP32", 64)]}),
            "rank 2",
        ),
        (
            json!({"inputs": [input(json!([1, 2, 8, 8]), "FP32", 128)]}),
            "dim 1 is 2",
        ),
        (
            json!({"inputs": [input(json!([-1, 1, 8, 8]), "FP32", 64)]}),
            "negative dim",
        ),
        (
            json!({"inputs": [input(json!([i64::MAX, 1, 8, 8]), "FP32", 1)]}),
            "overflows the element count",
        ),
        (
            json!({"inputs": [input(json!([101, 1, 8, 8]), "FP32", 1)]}),
            "over the limit of 6400",
        ),
        (
            json!({"inputs": [input(json!([1, 1, 8, 8]), "FP32", 63)]}),
            "holds 63 elements but shape [1, 1, 8, 8] needs 64",
        ),
        (
            json!({"inputs": [{"name": "input", "shape": [1, 1, 8, 8], "datatype": "FP32", "data": ["a"]}]}),
            "a string",
        ),
        (
            json!({"inputs": [ok.clone()], "outputs": [{"name": "probs"}]}),
            "unknown output `probs`",
        ),
    ];
    for (body, needle) in cases {
        let r = post(
            &server,
            "/v2/models/digits_cnn/infer",
            &serde_json::to_vec(&body).unwrap(),
            None,
        );
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert_eq!(r.status, 400, "{body}: {error}");
        assert!(error.contains(needle), "{needle:?} not in {error:?}");
    }
    let binary = |size: usize, tail: usize| {
        let head = serde_json::to_vec(&json!({"inputs": [{"name": "input", "shape": [1, 1, 8, 8],
            "datatype": "FP32", "parameters": {"binary_data_size": size}}]}))
        .unwrap();
        let n = head.len();
        let mut body = head;
        body.extend(vec![0u8; tail]);
        (body, n)
    };
    for ((size, tail), needle) in [
        (
            (255, 255),
            "`binary_data_size` is 255 bytes but shape [1, 1, 8, 8] of FP32 needs 256",
        ),
        (
            (256, 200),
            "binary data ends at byte 256 but the body holds 200",
        ),
        ((256, 300), "holds 300 bytes after the JSON header"),
    ] {
        let (body, n) = binary(size, tail);
        let r = post(&server, "/v2/models/digits_cnn/infer", &body, Some(n));
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(
            r.json()["error"].as_str().unwrap().contains(needle),
            "{}",
            r.text()
        );
    }
    let (body, _) = binary(256, 256);
    let r = post(
        &server,
        "/v2/models/digits_cnn/infer",
        &body,
        Some(body.len() + 1),
    );
    assert!(
        r.json()["error"].as_str().unwrap().contains("has only"),
        "{}",
        r.text()
    );
    let r = post(&server, "/v2/models/digits_cnn/infer", &body, None);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("Inference-Header-Content-Length")
    );
    let reply = over_limit(&server, 300_000);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("over the limit of 200000"), "{reply}");
    let stats = get(&server, "/v2/models/digits_cnn/stats").json();
    assert_eq!(
        stats["model_stats"][0]["execution_count"], 0,
        "nothing bad reached the model"
    );
    server.shutdown();
}

#[test]
fn several_models_and_a_repository() {
    let dir = std::env::temp_dir().join(format!("burnish-serve-repo-{}", std::process::id()));
    for (name, file) in [("digits", "digits_cnn.onnx"), ("mlp", "mlp.onnx")] {
        let v = dir.join(name).join("1");
        std::fs::create_dir_all(&v).unwrap();
        std::fs::copy(common::fixture(file), v.join("model.onnx")).unwrap();
    }
    let models = burnish_serve::repository(&dir).expect("repository");
    let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["digits", "mlp"]);
    let mut config = burnish_serve::ServeConfig::new(models);
    config.http = "127.0.0.1:0".parse().unwrap();
    let server = burnish_serve::Server::start(config).expect("start");
    assert_eq!(
        get(&server, "/v2/models/mlp").json()["inputs"][0]["name"],
        "x"
    );
    assert_eq!(get(&server, "/v2/models/digits/ready").status, 200);
    server.shutdown();
    std::fs::remove_dir_all(&dir).ok();
}

/// Sends only the headers of a `size`-byte body: the server answers from Content-Length.
fn over_limit(server: &burnish_serve::Server, size: usize) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(server.http_addr()).unwrap();
    let head = format!(
        "POST /v2/models/digits_cnn/infer HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\
         Connection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    reply
}
