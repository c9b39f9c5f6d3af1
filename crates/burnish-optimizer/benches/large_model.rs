//! Optimization time of a ~100 MB model: `PassManager::run` (extended level) on a synthetic
//! conv + MLP stack with BatchNorms, residuals, activations, transposed weights and identities.
//! Prints the per-pass times of one run before measuring.
//!
//! `cargo bench -p burnish-optimizer --bench large_model`
#![allow(missing_docs)]

mod graphs;

use burnish_model::{Attribute, Model};
use burnish_optimizer::{OptimizeOptions, PassManager};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use graphs::{Builder, scalar};

/// Residual conv blocks (two 3x3 convs of 256 channels each: 4.7 MB) then an MLP of 1536-wide
/// layers (9.4 MB each) whose weights are stored transposed, as exporters often do.
pub fn large_model(blocks: usize, layers: usize) -> Model {
    let mut b = Builder::new("large");
    let x = b.input("x", &[None, Some(64), Some(8), Some(8)]);
    let mut h = b.conv(&x, 64, 256, 1);
    for _ in 0..blocks {
        let c = b.conv(&h, 256, 256, 3);
        let n = b.batch_norm(&c, 256);
        let r = b.node("Relu", &[&n], &[]);
        let c = b.conv(&r, 256, 256, 3);
        let n = b.batch_norm(&c, 256);
        let a = b.node("Add", &[&n, &h], &[]);
        h = b.node("Relu", &[&a], &[]);
    }
    let p = b.node("GlobalAveragePool", &[&h], &[]);
    let mut h = b.node("Flatten", &[&p], &[]);
    let one = scalar(&mut b, "one", 1.0);
    let mut width = 256;
    for l in 0..layers {
        let wt = b.weight(&format!("fc{l}.weight"), &[1536, width], 0.05);
        let bias = b.weight(&format!("fc{l}.bias"), &[1536], 0.05);
        let w = b.node(
            "Transpose",
            &[&wt],
            &[("perm", Attribute::Ints(vec![1, 0]))],
        );
        let m = b.node("MatMul", &[&h, &w], &[]);
        let a = b.node("Add", &[&m, &bias], &[]);
        let i = b.node("Mul", &[&a, &one], &[]);
        h = b.node("Relu", &[&i], &[]);
        width = 1536;
    }
    b.output(&h);
    b.finish()
}

fn benches(c: &mut Criterion) {
    let model = large_model(6, 8);
    let bytes = model.graph.parameter_stats().1;
    let manager = PassManager::new(OptimizeOptions::default()).unwrap();
    let mut once = model.clone();
    let record = manager.run(&mut once).unwrap();
    eprintln!(
        "large model: {:.1} MB, {} -> {} nodes, {} iterations, {} probes, {:.0} ms",
        bytes as f64 / 1e6,
        record.nodes_before,
        record.nodes_after,
        record.iterations,
        record.probes,
        record.millis
    );
    for p in &record.passes {
        eprintln!(
            "  {:34} runs {:2} changes {:3} {:8.1} ms",
            p.name, p.runs, p.changes, p.millis
        );
    }
    let mut group = c.benchmark_group("optimize_time");
    group.sample_size(10);
    group.bench_function(format!("extended_{}mb", bytes / 1_000_000), |b| {
        b.iter_batched(
            || model.clone(),
            |mut m| manager.run(&mut m).unwrap(),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(large, benches);
criterion_main!(large);
