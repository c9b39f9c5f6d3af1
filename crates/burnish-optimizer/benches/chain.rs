//! Optimization time of long chains (10k to 100k nodes): `PassManager::run` at the extended
//! level must grow linearly (or n log n) with the node count.
//!
//! `cargo bench -p burnish-optimizer --bench chain`
#![allow(missing_docs)]

mod graphs;

use burnish_optimizer::{OptimizeOptions, PassManager};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use graphs::chain::chain;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimize_chain");
    group.sample_size(10);
    for nodes in [10_000, 20_000, 40_000, 100_000] {
        let model = chain(nodes);
        let manager = PassManager::new(OptimizeOptions::default()).expect("default passes");
        group.bench_with_input(BenchmarkId::from_parameter(nodes), &model, |b, m| {
            b.iter_batched(
                || m.clone(),
                |mut m| manager.run(&mut m).expect("optimizes"),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
