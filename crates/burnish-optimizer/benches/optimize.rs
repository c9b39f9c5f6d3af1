//! Baseline vs extended-optimized latency: resnet_nchw at batch 8 and bert (batch 2, seq 16),
//! one session each, all cores, the same inputs.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;

use burnish_model::{Model, load_onnx, synth::random_inputs};
use burnish_optimizer::{OptimizeOptions, PassManager};
use burnish_runtime::{Session, SessionOptions};
use criterion::{Criterion, criterion_group, criterion_main};

fn fixture(name: &str) -> Model {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/models")
        .join(format!("{name}.onnx"));
    load_onnx(path).expect("fixture loads")
}

fn bench_model(c: &mut Criterion, name: &str, dims: &[(&str, usize)]) {
    let base = fixture(name);
    let mut opt = base.clone();
    PassManager::new(OptimizeOptions::default())
        .unwrap()
        .run(&mut opt)
        .unwrap();
    let dims: HashMap<String, usize> = dims.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let inputs = random_inputs(&base.graph, &dims, 0).unwrap();
    let mut group = c.benchmark_group(name);
    for (label, model) in [("baseline", &base), ("extended", &opt)] {
        let session = Session::new(model, SessionOptions::threads(None)).unwrap();
        group.bench_function(label, |b| {
            b.iter(|| {
                let values = session.prepare_inputs(&inputs).unwrap();
                session.run_values(values).unwrap()
            })
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_model(c, "resnet_nchw", &[("batch", 8)]);
    bench_model(c, "bert", &[("batch", 2), ("seq", 16)]);
}

criterion_group!(name = optimize; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(optimize);
