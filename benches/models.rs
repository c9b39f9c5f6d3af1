//! Every bundled fixture model (`tests/fixtures/models/*.onnx`) as the baseline, after each
//! optimization level (`basic`, `extended`), and after each quantization mode of the extended
//! model (`dynamic-int8`, `static-int8`, `f16`, QDQ lowered to burnish's int8 ops as the
//! pipeline runs them), one criterion group per model so the report shows the variants side
//! by side. Latency per batch; throughput in samples
//! (`Throughput::Elements` = batch size).
//!
//! ```sh
//! cargo bench --bench models                    # everything (a few minutes)
//! cargo bench --bench models -- --quick         # criterion's quick mode (CI-like smoke run)
//! cargo bench --bench models -- 'bert/'         # one model
//! BURNISH_BENCH_THREADS=2 cargo bench --bench models
//! ```
//!
//! Models with a symbolic batch dimension (the first dim of the first input) run at batch 1 and
//! 8; other symbolic dims (sequence lengths) are set to 16. Inputs are seeded random data, made
//! once outside the timed loop. Static int8 calibrates on `<model>_calibration.npz` when the
//! fixtures have one (digits_cnn), else on 32 seeded random samples. A variant that cannot be
//! built (a mode that does not apply to a model) is skipped with a message on stderr.
//! Sessions use one intra-op thread unless `BURNISH_BENCH_THREADS` says otherwise, so that
//! numbers are comparable on a shared machine.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use burnish_model::synth::random_inputs;
use burnish_model::{Dim, Model, load_onnx};
use burnish_optimizer::{Level, OptimizeOptions, PassManager, lower_for_export};
use burnish_quant::{Calibration, QuantConfig, QuantMode, lower_qdq, quantize};
use burnish_runtime::{Session, SessionOptions};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Symbolic dims other than the batch get this size.
const OTHER_DIM: usize = 16;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    paths.sort();
    paths
}

fn threads() -> usize {
    std::env::var("BURNISH_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// The batch dim's name (first dim of the first input, when symbolic) and every other
/// symbolic dim of the inputs.
fn symbolic_dims(model: &Model) -> (Option<String>, Vec<String>) {
    let batch = model
        .graph
        .inputs
        .first()
        .and_then(|i| i.shape.as_ref()?.first().cloned())
        .and_then(|d| match d {
            Dim::Symbolic(name) => Some(name),
            Dim::Fixed(_) | Dim::Unknown => None,
        });
    let mut others: Vec<String> = Vec::new();
    for input in &model.graph.inputs {
        for d in input.shape.iter().flatten() {
            if let Dim::Symbolic(name) = d
                && Some(name) != batch.as_ref()
                && !others.contains(name)
            {
                others.push(name.clone());
            }
        }
    }
    (batch, others)
}

fn optimized(base: &Model, level: Level) -> Result<Model, String> {
    let mut model = base.clone();
    let options = OptimizeOptions {
        level,
        ..OptimizeOptions::default()
    };
    PassManager::new(options)
        .and_then(|pm| pm.run(&mut model))
        .map_err(|e| e.to_string())?;
    Ok(model)
}

/// Calibration data for `static-int8`: the fixture's own set, else seeded random samples.
fn calibration(path: &Path, base: &Model, dims: &HashMap<String, usize>) -> Calibration {
    let own = path.with_file_name(format!(
        "{}_calibration.npz",
        path.file_stem().unwrap_or_default().to_string_lossy()
    ));
    if let Ok(c) = Calibration::from_npz(&own) {
        return c;
    }
    Calibration {
        source: "32 seeded random samples".into(),
        inputs: random_inputs(&base.graph, dims, 1).unwrap_or_default(),
    }
}

fn quantized(
    extended: &Model,
    mode: QuantMode,
    calibration: &Calibration,
) -> Result<Model, String> {
    let cfg = QuantConfig {
        mode,
        target: burnish_quant::QdqTarget::Burnish,
        ..QuantConfig::default()
    };
    let base = lower_for_export(extended, false);
    let calibration = mode.needs_calibration().then_some(calibration);
    let (mut model, _) = quantize(&base, &cfg, calibration).map_err(|e| e.to_string())?;
    lower_qdq(&mut model).map_err(|e| e.to_string())?;
    Ok(model)
}

/// The variants of one model: baseline, optimization levels, quantization modes.
fn variants(
    path: &Path,
    base: &Model,
    dims: &HashMap<String, usize>,
) -> Vec<(&'static str, Result<Model, String>)> {
    let extended = optimized(base, Level::Extended);
    let calibration = calibration(path, base, dims);
    let mut out = vec![
        ("baseline", Ok(base.clone())),
        ("basic", optimized(base, Level::Basic)),
    ];
    for (label, mode) in [
        ("dynamic-int8", QuantMode::DynamicInt8),
        ("static-int8", QuantMode::StaticInt8),
        ("f16", QuantMode::F16),
    ] {
        let model = extended
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|m| quantized(m, mode, &calibration));
        out.push((label, model));
    }
    out.insert(2, ("extended", extended));
    out
}

fn bench_model(c: &mut Criterion, path: &Path) {
    let name = path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let base = match load_onnx(path) {
        Ok(m) => m,
        Err(e) => return eprintln!("skipping {name}: {e}"),
    };
    let (batch_dim, others) = symbolic_dims(&base);
    let batches: &[usize] = if batch_dim.is_some() { &[1, 8] } else { &[1] };
    let mut calib_dims: HashMap<String, usize> =
        others.iter().map(|d| (d.clone(), OTHER_DIM)).collect();
    if let Some(b) = &batch_dim {
        calib_dims.insert(b.clone(), 32);
    }
    let mut group = c.benchmark_group(&name);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.sample_size(20);
    for (label, model) in variants(path, &base, &calib_dims) {
        let model = match model {
            Ok(m) => m,
            Err(e) => {
                eprintln!("skipping {name}/{label}: {e}");
                continue;
            }
        };
        let options = SessionOptions::threads(Some(threads()));
        let session = match Session::new(&model, options) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("skipping {name}/{label}: {e}");
                continue;
            }
        };
        for &batch in batches {
            let mut dims: HashMap<String, usize> =
                others.iter().map(|d| (d.clone(), OTHER_DIM)).collect();
            if let Some(b) = &batch_dim {
                dims.insert(b.clone(), batch);
            }
            let values = random_inputs(&model.graph, &dims, 0)
                .map_err(|e| e.to_string())
                .and_then(|i| session.prepare_inputs(&i).map_err(|e| e.to_string()));
            let values = match values {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("skipping {name}/{label}/batch{batch}: {e}");
                    continue;
                }
            };
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_with_input(
                BenchmarkId::new(label, format!("batch{batch}")),
                &values,
                |b, v| b.iter(|| black_box(session.run_values(v.clone()).expect("run"))),
            );
        }
    }
    group.finish();
}

fn models(c: &mut Criterion) {
    for path in fixtures() {
        bench_model(c, &path);
    }
}

criterion_group!(benches, models);
criterion_main!(benches);
