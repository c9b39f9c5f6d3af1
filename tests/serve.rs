//! `burnish serve` and `burnish bench --url` end to end: the real binary on loopback port 0.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{burnish, fixtures};

struct Served {
    child: Child,
    url: String,
    metrics: Option<String>,
}

impl Served {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_burnish"))
            .arg("serve")
            .args(args)
            .args(["--http", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("burnish serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("address line");
        let addr = line.trim().strip_prefix("http ").expect("`http ADDR` line");
        let url = format!("http://{addr}");
        let metrics = args.contains(&"--metrics").then(|| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("metrics line");
            let addr = line
                .trim()
                .strip_prefix("metrics ")
                .expect("`metrics ADDR` line");
            addr.to_string()
        });
        Self {
            child,
            url,
            metrics,
        }
    }

    /// SIGTERM, then the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("wait")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn bench_url_measures_a_served_model_and_serve_stops_on_sigterm() {
    let model = fixtures().join("digits_cnn.onnx");
    let named = format!("digits={}", model.display());
    let served = Served::start(&[
        "--name",
        &named,
        "--max-batch",
        "4",
        "--metrics",
        "127.0.0.1:0",
    ]);
    for format in ["binary", "json"] {
        let out = burnish(&[
            "bench",
            "--url",
            &served.url,
            "--model",
            "digits",
            "--tensor-format",
            format,
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let file: serde_json::Value = serde_json::from_slice(&out.stdout).expect("results JSON");
        let run = &file["runs"][0];
        assert_eq!(run["target"], "digits", "{run}");
        assert!(run["queries"].as_u64().unwrap() >= 64, "{run}");
    }
    let metrics = http_get(
        served.metrics.as_deref().expect("metrics address"),
        "/metrics",
    );
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("burnish_inference_request_success{model=\"digits\",version=\"1\"}"),
        "{metrics}"
    );
    let out = burnish(&["bench", "--url", &served.url, "--model", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown model `nope`"));
    let status = served.stop();
    assert!(status.success(), "graceful exit: {status:?}");
}

#[test]
fn serve_without_models_or_with_duplicate_names_fails_clearly() {
    let out = burnish(&["serve"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no model to serve"));
    let model = fixtures().join("mlp.onnx");
    let m = model.to_str().unwrap();
    let out = burnish(&["serve", m, m, "--http", "127.0.0.1:0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("two models are named `mlp`"));
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).expect("read");
    reply
}
