//! Regenerates `tests/fixtures/results.json` from real runs of burnish-bench's synthetic
//! targets (a few seconds of measurement), plus hand-written model facts standing in for what
//! the CLI gathers (variants, optimization record, op profiles) and a drift analysis of
//! synthetic data. Run it only to change the fixture's shape, then update the snapshot:
//!
//! ```text
//! cargo test -p burnish-report --test generate_fixture -- --ignored
//! BURNISH_UPDATE_SNAPSHOTS=1 cargo test -p burnish-report --test render
//! ```

mod common;

use std::sync::Arc;
use std::time::Duration;

use burnish_bench::{
    BenchFile, BuildInfo, CompareConfig, CompareScenario, ConcurrencyConfig, Environment, LoadGen,
    MaxQpsConfig, ModelLoad, OfflineConfig, Rng, RunLimits, ScenarioConfig, ServerConfig,
    SingleStreamConfig, Slo, regression_check,
};
use burnish_drift::{ClipInput, DriftAnalysis, DriftSettings, InputSpec, Sample};
use burnish_report::{
    Fidelity, ModelVariant, OpProfile, OpRow, OptimizationRecord, PassRecord, ReportInput,
};
use common::jitter::JitterTarget;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn bench_file() -> BenchFile {
    let baseline = Arc::new(JitterTarget::new("baseline", 900.0, 1));
    let optimized = Arc::new(JitterTarget::new("optimized", 560.0, 2));
    let int8 = Arc::new(JitterTarget::new("int8", 380.0, 3));
    let lg = LoadGen::new().with_intra_op_threads(1).with_sample_cap(250);
    let limits = RunLimits::new(ms(400), 64).with_warmup(4);
    let mut file = BenchFile::new(Some(Environment::detect(BuildInfo {
        burnish_version: Some("0.1.0".into()),
        git_revision: Some("fixture".into()),
        backend: Some("flex".into()),
        threads: Some("intra_op=1".into()),
        model_sha256: None,
    })));
    for t in [&baseline, &optimized, &int8] {
        let r = lg
            .single_stream(t.as_ref(), &SingleStreamConfig::new(limits))
            .unwrap();
        file.runs.push(r);
    }
    let cfg = CompareConfig {
        rounds: 6,
        round_limits: RunLimits::new(ms(150), 20).with_warmup(2),
        scenario: CompareScenario::SingleStream,
        ..CompareConfig::default()
    };
    let outcome = lg
        .compare(baseline.as_ref(), optimized.as_ref(), &cfg)
        .unwrap();
    file.comparisons.push(outcome.comparison);
    file.runs.push(outcome.baseline);
    file.runs.push(outcome.candidate);
    for t in [&baseline, &optimized] {
        let offline = OfflineConfig::new(2, vec![1, 2, 4, 8, 16], RunLimits::new(ms(200), 16));
        file.runs.extend(lg.offline(t.as_ref(), &offline).unwrap());
        let sweep = ConcurrencyConfig::new(vec![1, 2, 4, 8], RunLimits::new(ms(200), 64));
        file.runs
            .extend(lg.concurrency_sweep(t.as_ref(), &sweep).unwrap());
    }
    let slo = Slo::p99(ms(8));
    let server = ServerConfig::new(600.0, RunLimits::new(ms(800), 200)).with_sessions(2);
    file.runs.push(
        lg.server(optimized.as_ref(), &server.clone().with_slo(slo))
            .unwrap(),
    );
    let mut search = MaxQpsConfig::new(server, slo);
    search.trial_limits = RunLimits::new(ms(250), 64).with_warmup(4);
    search.start_qps = Some(200.0);
    search.tolerance = 0.1;
    search.max_trials = 10;
    file.max_qps
        .push(lg.find_max_qps(optimized.as_ref(), &search).unwrap());
    let single = ScenarioConfig::SingleStream(SingleStreamConfig::new(RunLimits::new(ms(300), 64)));
    let loads = [("baseline", baseline.clone()), ("int8", int8.clone())].map(|(l, t)| ModelLoad {
        label: l.to_string(),
        target: t,
        scenario: single.clone(),
    });
    file.multi_model.push(lg.multi_model(&loads).unwrap());
    let (b, o) = (
        file.run("baseline single-stream").unwrap(),
        file.run("optimized single-stream").unwrap(),
    );
    file.regressions.push(regression_check(b, o, 5.0).unwrap());
    file
}

fn drift() -> burnish_drift::DriftReport {
    let n = 400;
    let mut rng = Rng::new(7);
    let reference: Vec<f32> = (0..n * 4).map(|_| rng.normal() as f32).collect();
    let current: Vec<f32> = (0..n * 4)
        .map(|i| rng.normal() as f32 + if i % 4 == 2 { 0.8 } else { 0.0 })
        .collect();
    let logits = |rng: &mut Rng, bias: f64| -> Vec<f32> {
        (0..n * 3)
            .map(|i| (rng.normal() + if i % 3 == 0 { bias } else { 0.0 }) as f32)
            .collect()
    };
    let (lr, lc) = (logits(&mut rng, 0.0), logits(&mut rng, 0.6));
    let mut a = DriftAnalysis::new(DriftSettings::default()).unwrap();
    a.add_input(
        "features",
        &Sample::new(&reference, &[n, 4]).unwrap(),
        &Sample::new(&current, &[n, 4]).unwrap(),
        InputSpec::default(),
    )
    .unwrap();
    a.set_predictions(
        &Sample::new(&lr, &[n, 3]).unwrap(),
        &Sample::new(&lc, &[n, 3]).unwrap(),
    )
    .unwrap();
    a.add_clip_rates(&[ClipInput {
        name: "conv1.out",
        min: -2.5,
        max: 2.5,
        reference: &reference,
        current: &current,
    }])
    .unwrap();
    a.finish()
}

fn row(op: &str, calls: u64, self_ms: f64, total: f64, gflops: Option<f64>) -> OpRow {
    OpRow {
        op_type: op.into(),
        calls,
        self_ms,
        share: self_ms / total,
        gflops,
    }
}

fn profile(variant: &str, ops: &[(&str, u64, f64, Option<f64>)]) -> OpProfile {
    let total: f64 = ops.iter().map(|o| o.2).sum();
    OpProfile {
        variant: variant.into(),
        rows: ops
            .iter()
            .map(|&(op, c, t, g)| row(op, c, t, total, g))
            .collect(),
    }
}

fn variant(
    label: &str,
    path: &str,
    size: u64,
    accuracy: f64,
    fidelity: Option<Fidelity>,
) -> ModelVariant {
    ModelVariant {
        label: label.into(),
        run: None,
        model_path: path.into(),
        file_size_bytes: size,
        parameter_bytes: size - 2048,
        accuracy: Some(accuracy),
        fidelity,
    }
}

#[test]
#[ignore = "measures for several seconds and rewrites the committed fixture"]
fn generate_fixture() {
    let fid = |max_abs, cosine, snr, top1| Fidelity {
        max_abs,
        mean_abs: max_abs / 20.0,
        cosine,
        snr_db: Some(snr),
        top1_agreement: Some(top1),
        count: 0,
    };
    let input = ReportInput {
        title: Some("digits CNN: baseline vs optimized vs int8".into()),
        results: vec![bench_file()],
        variants: vec![
            variant("baseline", "models/digits.onnx", 1_274_880, 0.9812, None),
            variant(
                "optimized",
                "out/digits.opt.onnx",
                1_270_112,
                0.9812,
                Some(fid(3.1e-6, 0.999_999_9, 118.4, 1.0)),
            ),
            variant(
                "int8",
                "out/digits.int8.onnx",
                332_416,
                0.9779,
                Some(fid(4.2e-2, 0.999_12, 31.7, 0.9934)),
            ),
        ],
        optimization: Some(OptimizationRecord {
            passes: [
                ("fold-constants", 12, 1.84),
                ("fuse-batchnorm", 3, 0.62),
                ("fuse-conv-relu", 3, 0.41),
                ("eliminate-identity", 4, 0.12),
                ("dead-code", 6, 0.09),
            ]
            .map(|(n, c, t)| PassRecord {
                name: n.into(),
                changes: c,
                millis: t,
            })
            .to_vec(),
            nodes_before: 41,
            nodes_after: 22,
            params_before: 318_218,
            params_after: 317_962,
        }),
        profiles: vec![
            profile(
                "baseline",
                &[
                    ("Conv", 3, 0.412, Some(9.8)),
                    ("BatchNormalization", 3, 0.121, None),
                    ("Relu", 4, 0.088, None),
                    ("MaxPool", 2, 0.061, None),
                    ("Gemm", 2, 0.097, Some(6.1)),
                    ("Reshape", 2, 0.012, None),
                    ("Softmax", 1, 0.009, None),
                    ("Add", 2, 0.021, None),
                    ("Identity", 4, 0.006, None),
                    ("Constant", 12, 0.004, None),
                    ("Flatten", 1, 0.003, None),
                    ("Mul", 1, 0.002, None),
                ],
            ),
            profile(
                "optimized",
                &[
                    ("Conv", 3, 0.371, Some(10.9)),
                    ("Relu", 1, 0.019, None),
                    ("MaxPool", 2, 0.058, None),
                    ("Gemm", 2, 0.094, Some(6.3)),
                    ("Reshape", 2, 0.011, None),
                    ("Softmax", 1, 0.009, None),
                    ("Flatten", 1, 0.003, None),
                ],
            ),
        ],
        drift: Some(drift()),
        ..ReportInput::default()
    };
    input.save(common::fixture_path()).unwrap();
}
