//! Interpreter speed: per-node overhead on a long chain of tiny element-wise ops, and the
//! ResNet-style fixture at batch 1 and 8 on 1 and 2 threads.
//!
//! `cargo bench --bench interpreter`; compare with `tests/fixtures/gen/ort_bench.py` run on the
//! same machine at the same time.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::path::Path;

use burnish_model::synth::random_inputs;
use burnish_model::{Dim, Graph, Model, Node, ValueInfo, load_onnx};
use burnish_runtime::{Session, SessionOptions};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A graph of `n` nodes alternating Add/Mul/Relu/Sigmoid over a `[1, 8]` value.
fn chain(n: usize) -> Model {
    let ops = ["Add", "Mul", "Relu", "Sigmoid"];
    let mut nodes = Vec::with_capacity(n);
    let mut prev = "x".to_string();
    for i in 0..n {
        let op = ops[i % ops.len()];
        let out = format!("v{i}");
        let inputs = if matches!(op, "Add" | "Mul") {
            vec![prev.clone(), "x".into()]
        } else {
            vec![prev.clone()]
        };
        nodes.push(Node {
            name: format!("n{i}"),
            op_type: op.into(),
            domain: String::new(),
            inputs,
            outputs: vec![out.clone()],
            attrs: Default::default(),
        });
        prev = out;
    }
    let info = |name: &str| ValueInfo {
        name: name.into(),
        dtype: Some(burnish_model::DType::F32),
        shape: Some(vec![Dim::Fixed(1), Dim::Fixed(8)]),
    };
    Model {
        graph: Graph {
            name: "chain".into(),
            inputs: vec![info("x")],
            outputs: vec![info(&prev)],
            nodes,
            ..Default::default()
        },
        opsets: BTreeMap::from([(String::new(), 17)]),
        ir_version: 8,
        ..Default::default()
    }
}

fn overhead(c: &mut Criterion) {
    let nodes = 200;
    let model = chain(nodes);
    let session = Session::new(&model, SessionOptions::threads(Some(1))).unwrap();
    let inputs = random_inputs(&model.graph, &HashMap::new(), 0).unwrap();
    let values = session.prepare_inputs(&inputs).unwrap();
    let mut g = c.benchmark_group("interpreter_overhead");
    g.throughput(Throughput::Elements(nodes as u64));
    g.bench_function("chain_200_nodes_1x8", |b| {
        b.iter(|| black_box(session.run_values(values.clone()).unwrap()))
    });
    g.finish();
}

fn resnet(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/resnet_nchw.onnx");
    let model = load_onnx(&path).unwrap();
    let mut g = c.benchmark_group("resnet_nchw");
    g.sample_size(20);
    for threads in [1usize, 2] {
        let session = Session::new(&model, SessionOptions::threads(Some(threads))).unwrap();
        for batch in [1usize, 8] {
            let dims = HashMap::from([("batch".to_string(), batch)]);
            let inputs = random_inputs(&model.graph, &dims, 0).unwrap();
            let values = session.prepare_inputs(&inputs).unwrap();
            g.throughput(Throughput::Elements(batch as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("threads{threads}"), format!("batch{batch}")),
                &values,
                |b, v| b.iter(|| black_box(session.run_values(v.clone()).unwrap())),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, overhead, resnet);
criterion_main!(benches);
