//! Load behaviour: backpressure (429), dynamic batching, graceful drain, and the bench
//! scenarios through `RemoteTarget`.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use burnish_bench::{LoadGen, RunLimits, SingleStreamConfig, Target};
use burnish_model::TensorData;
use burnish_runtime::{Session, SessionOptions};
use burnish_serve::client::{Client, Format, RemoteInputs, RemoteTarget, encode_request};
use burnish_serve::stats::WindowBreakdown;
use burnish_serve::{Limits, ModelOptions};
use common::{get, post, start};

fn digits_input(seed: usize, rows: usize) -> TensorData {
    let data = (0..rows * 64)
        .map(|k| ((k * 7 + seed * 13) % 17) as f32 / 17.0)
        .collect();
    TensorData::from_f32(vec![rows, 1, 8, 8], data)
}

#[test]
fn a_full_queue_answers_429_and_every_accepted_request_is_answered() {
    let options = ModelOptions {
        max_queue: 1,
        threads: Some(1),
        ..ModelOptions::default()
    };
    let server = start(&["resnet_nchw.onnx"], options, Limits::default());
    let rows = 16;
    let t = TensorData::from_f32(vec![rows, 3, 64, 64], vec![0.25; rows * 3 * 64 * 64]);
    let body = Arc::new(encode_request(&[("input".into(), t)], Format::Binary).unwrap());
    let n = 12;
    let barrier = Arc::new(Barrier::new(n));
    let server = Arc::new(server);
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (server, body, barrier) = (server.clone(), body.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let r = post(
                    &server,
                    "/v2/models/resnet_nchw/infer",
                    &body.body,
                    body.header_len,
                );
                (r.status, r.header("retry-after").map(str::to_string))
            })
        })
        .collect();
    let replies: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let ok = replies.iter().filter(|r| r.0 == 200).count();
    let rejected: Vec<_> = replies.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(ok + rejected.len(), n, "only 200 or 429: {replies:?}");
    assert!(ok >= 1 && !rejected.is_empty(), "{replies:?}");
    assert!(
        rejected.iter().all(|r| r.1.as_deref() == Some("1")),
        "Retry-After"
    );
    let stats = get(&server, "/v2/models/resnet_nchw/stats").json();
    let s = &stats["model_stats"][0]["inference_stats"];
    assert_eq!(s["success"]["count"].as_u64(), Some(ok as u64));
    assert_eq!(s["fail"]["count"].as_u64(), Some(rejected.len() as u64));
    Arc::try_unwrap(server).unwrap().shutdown();
}

#[test]
fn concurrent_requests_are_batched_and_split_back_per_request() {
    let options = ModelOptions {
        max_batch: 8,
        max_queue_delay: Duration::from_millis(300),
        ..ModelOptions::default()
    };
    let server = Arc::new(start(&["digits_cnn.onnx"], options, Limits::default()));
    let config = get(&server, "/v2/models/digits_cnn/config").json();
    assert_eq!(config["max_batch_size"], 8);
    let model = burnish_model::load_onnx(common::fixture("digits_cnn.onnx")).unwrap();
    let session = Session::new(&model, SessionOptions::default()).unwrap();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let url = format!("http://{}", server.http_addr());
    let handles: Vec<_> = (0..n)
        .map(|k| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let input = digits_input(k, 1);
                barrier.wait();
                let out = Client::new(&url)
                    .infer(
                        "digits_cnn",
                        &[("input".into(), input.clone())],
                        Format::Binary,
                    )
                    .expect("infer");
                (input, out)
            })
        })
        .collect();
    for h in handles {
        let (input, out) = h.join().unwrap();
        let direct = session
            .run(&BTreeMap::from([("input".to_string(), input)]))
            .unwrap();
        let (got, want) = (
            out[0].1.as_f32().unwrap(),
            direct["logits"].as_f32().unwrap(),
        );
        assert_eq!(out[0].1.shape, vec![1, 10]);
        for (a, b) in got.iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "row of its own request: {a} vs {b}"
            );
        }
    }
    let s = get(&server, "/v2/models/digits_cnn/stats").json();
    let s = &s["model_stats"][0];
    let executions = s["execution_count"].as_u64().unwrap();
    assert_eq!(s["inference_count"].as_u64(), Some(n as u64));
    assert!(
        executions < n as u64,
        "{n} requests ran in {executions} executions"
    );
    let largest = s["batch_stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch_size"].as_u64().unwrap())
        .max();
    assert!(largest > Some(1), "{s}");
    assert_eq!(
        s["inference_stats"]["queue"]["count"].as_u64(),
        Some(n as u64)
    );
    Arc::try_unwrap(server).unwrap().shutdown();
}

#[test]
fn shutdown_answers_the_requests_in_flight() {
    let options = ModelOptions {
        threads: Some(1),
        max_queue: 8,
        ..ModelOptions::default()
    };
    let server = start(&["resnet_nchw.onnx"], options, Limits::default());
    let url = format!("http://{}", server.http_addr());
    let t = TensorData::from_f32(vec![8, 3, 64, 64], vec![0.5; 8 * 3 * 64 * 64]);
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (url, t) = (url.clone(), t.clone());
            std::thread::spawn(move || {
                Client::new(&url).infer("resnet_nchw", &[("input".into(), t)], Format::Binary)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    server.shutdown();
    for h in handles {
        let out = h.join().unwrap().expect("answered during the drain");
        assert_eq!(out[0].1.shape, vec![8, 10]);
    }
}

#[test]
fn bench_scenarios_run_through_the_remote_target() {
    let server = start(
        &["digits_cnn.onnx"],
        ModelOptions::default(),
        Limits::default(),
    );
    let url = format!("http://{}", server.http_addr());
    for format in [Format::Binary, Format::Json] {
        let target = RemoteTarget::connect(&url, "digits_cnn", format, RemoteInputs::default())
            .expect("connect");
        let cfg = SingleStreamConfig::new(RunLimits::new(Duration::from_millis(200), 20));
        let before = target.server_stats().expect("statistics advertised");
        let run = LoadGen::new()
            .single_stream(&target, &cfg)
            .expect("single stream");
        let window = WindowBreakdown::between(&before, &target.server_stats().unwrap());
        assert!(window.requests >= run.queries, "{window}");
        assert!(
            window.compute_us > 0.0 && window.compute_us <= window.server_us,
            "{window}"
        );
        assert!(run.queries >= 20, "{}", run.queries);
        assert_eq!(target.name(), "digits_cnn");
    }
    let stats = get(&server, "/v2/models/digits_cnn/stats").json();
    assert!(
        stats["model_stats"][0]["inference_stats"]["success"]["count"]
            .as_u64()
            .unwrap()
            >= 40
    );
    assert!(RemoteTarget::connect(&url, "nope", Format::Binary, RemoteInputs::default()).is_err());
    let bad = post(&server, "/v2/models/digits_cnn/infer", b"{}", None);
    assert_eq!(bad.status, 400);
    server.shutdown();
}
