//! Result files: produced JSON validates against the committed JSON Schema, writes are atomic,
//! and everything round-trips.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use burnish_bench::file::JSON_SCHEMA;
use burnish_bench::{
    BenchError, BenchFile, BuildInfo, ColdStart, CompareConfig, Environment, LoadGen, MaxQpsConfig,
    ModelLoad, NoopTarget, OfflineConfig, RunLimits, SCHEMA_VERSION, ScenarioConfig, ServerConfig,
    SingleStreamConfig, Slo, Target, compare, regression_check, sha256_hex, summary,
};
use common::timing_lock;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burnish-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A file exercising every section, from short real runs against the no-op target.
fn full_file() -> BenchFile {
    let ms = Duration::from_millis;
    let limits = RunLimits::new(ms(50), 20);
    let lg = LoadGen::new().with_intra_op_threads(2).with_sample_cap(200);
    let noop = NoopTarget;
    let single = lg
        .single_stream(&noop, &SingleStreamConfig::new(limits))
        .unwrap()
        .labeled("baseline")
        .with_cold_start(ColdStart {
            model_load_ms: Some(12.5),
            first_inference_ms: Some(3.0),
            model_file_bytes: Some(1 << 20),
            parameter_bytes: None,
        });
    let mut server_cfg = ServerConfig::new(2000.0, limits).with_slo(Slo::p99(ms(5)));
    server_cfg.query_log_cap = 10;
    let server = lg.server(&noop, &server_cfg).unwrap();
    let offline = lg
        .offline(&noop, &OfflineConfig::new(2, vec![1, 4], limits))
        .unwrap();
    let cmp_cfg = CompareConfig {
        rounds: 2,
        round_limits: limits,
        ..CompareConfig::default()
    };
    let cmp = compare(&noop, &noop, &cmp_cfg).unwrap();
    let mut max_cfg = MaxQpsConfig::new(ServerConfig::new(1.0, limits), Slo::p99(ms(100)));
    max_cfg.trial_limits = limits;
    max_cfg.start_qps = Some(1000.0);
    max_cfg.max_trials = 3;
    let max_qps = lg.find_max_qps(&noop, &max_cfg).unwrap();
    let target: Arc<dyn Target> = Arc::new(NoopTarget);
    let mm = lg
        .multi_model(&[ModelLoad {
            label: "noop".into(),
            target,
            scenario: ScenarioConfig::Offline {
                workers: 1,
                batch: 2,
                limits,
            },
        }])
        .unwrap();
    let regression = regression_check(&single, &cmp.candidate, 5.0).unwrap();
    let env = Environment::detect(BuildInfo {
        burnish_version: Some("0.1.0".into()),
        git_revision: Some("abc123".into()),
        backend: Some("flex".into()),
        threads: Some("intra_op=2".into()),
        model_sha256: Some(sha256_hex(b"model")),
    });
    let mut f = BenchFile::new(Some(env));
    f.runs = vec![single, server, cmp.baseline, cmp.candidate];
    f.runs.extend(offline);
    f.comparisons = vec![cmp.comparison];
    f.max_qps = vec![max_qps];
    f.multi_model = vec![mm];
    f.regressions = vec![regression];
    f
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(JSON_SCHEMA).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn produced_json_validates_against_the_schema() {
    let _guard = timing_lock();
    let f = full_file();
    let value: serde_json::Value = serde_json::from_str(&f.to_json().unwrap()).unwrap();
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    // The server run's query log is present and the environment carries the build facts.
    assert!(
        value["runs"][1]["query_log"]
            .as_array()
            .is_some_and(|l| l.len() == 10)
    );
    assert_eq!(value["environment"]["build"]["backend"], "flex");

    // The schema is not vacuous: it rejects what the code would never write.
    let mut broken = value.clone();
    broken["runs"][0].as_object_mut().unwrap().remove("latency");
    assert!(!v.is_valid(&broken), "a run without latency passed");
    let mut broken = value.clone();
    broken["schema_version"] = 2.into();
    assert!(!v.is_valid(&broken), "schema_version 2 passed");
    let mut broken = value;
    broken["runs"][0]["validity"]["status"] = "MAYBE".into();
    assert!(!v.is_valid(&broken), "an unknown status passed");
}

#[test]
fn save_load_round_trip_and_rerender() {
    let _guard = timing_lock();
    let f = full_file();
    let dir = temp_dir("roundtrip");
    let path = dir.join("results.json");
    f.save(&path).unwrap();
    let back = BenchFile::load(&path).unwrap();
    assert_eq!(back, f);
    assert_eq!(back.schema_version, SCHEMA_VERSION);
    assert_eq!(summary::render_file(&back), summary::render_file(&f));
    let text = summary::render_file(&back);
    for needle in [
        "baseline",
        "VALID",
        "speedup",
        "max ",
        "interference",
        "regression gate",
    ] {
        assert!(text.contains(needle), "summary lacks {needle:?}:\n{text}");
    }
    // The regression gate works from a loaded file.
    let saved = back.run("baseline").unwrap();
    regression_check(saved, &f.runs[0], 5.0).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unsupported_schema_version_is_rejected() {
    let dir = temp_dir("version");
    let path = dir.join("future.json");
    std::fs::write(&path, r#"{"schema_version": 99, "runs": []}"#).unwrap();
    let err = BenchFile::load(&path).unwrap_err();
    assert!(
        matches!(
            err,
            BenchError::SchemaVersion {
                found: 99,
                supported: SCHEMA_VERSION,
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(&path, "{not json").unwrap();
    assert!(matches!(
        BenchFile::load(&path).unwrap_err(),
        BenchError::Parse { .. }
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writes_are_atomic() {
    let dir = temp_dir("atomic");
    let path = dir.join("results.json");
    // Two files of very different sizes, written alternately while a reader loads them: a
    // non-atomic write would let the reader see a truncated or mixed file.
    let small = BenchFile::new(None);
    let mut big = BenchFile::new(None);
    let run = LoadGen::new()
        .single_stream(
            &NoopTarget,
            &SingleStreamConfig::new(RunLimits::new(Duration::from_millis(20), 5000)),
        )
        .unwrap();
    big.runs = vec![run; 20];
    small.save(&path).unwrap();
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..40 {
                if i % 2 == 0 { &big } else { &small }.save(&path).unwrap();
            }
        });
        let mut reads = 0;
        while !writer.is_finished() {
            let f = BenchFile::load(&path).expect("a reader saw a torn file");
            assert!(f.runs.is_empty() || f.runs.len() == 20);
            reads += 1;
        }
        assert!(reads > 0);
    });
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["results.json".to_string()]);
    // A failed write leaves nothing.
    let missing = dir.join("no-such-dir").join("results.json");
    assert!(matches!(
        small.save(&missing).unwrap_err(),
        BenchError::Io { .. }
    ));
    assert!(!missing.exists());
    std::fs::remove_dir_all(dir).unwrap();
}
