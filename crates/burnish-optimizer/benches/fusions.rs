//! Each fusion measured alone: a small graph with the unfused pattern against the same graph
//! after the fusion's passes, one thread, the same inputs.
//!
//! `cargo bench -p burnish-optimizer --bench fusions`
#![allow(missing_docs)]

mod graphs;

use std::collections::HashMap;

use burnish_model::compare::diff;
use burnish_model::synth::random_inputs;
use burnish_model::{Attribute, Model};
use burnish_optimizer::{OptimizeOptions, PassManager};
use burnish_runtime::{Session, SessionOptions};
use criterion::{Criterion, criterion_group, criterion_main};
use graphs::{Builder, scalar};

/// One fusion: the unfused graph, the passes that fuse it and an op the fused graph must hold.
struct Case {
    name: &'static str,
    model: Model,
    passes: &'static [&'static str],
    expect: &'static str,
}

fn conv_input(b: &mut Builder) -> String {
    b.input("x", &[Some(8), Some(32), Some(32), Some(32)])
}

fn seq_input(b: &mut Builder) -> String {
    b.input("x", &[Some(8), Some(128), Some(256)])
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut case = |name, passes, expect, build: &dyn Fn(&mut Builder) -> String| {
        let mut b = Builder::new(name);
        let y = build(&mut b);
        b.output(&y);
        out.push(Case {
            name,
            model: b.finish(),
            passes,
            expect,
        });
    };
    case("conv_batchnorm", &["fuse_conv_batchnorm"], "Conv", &|b| {
        let x = conv_input(b);
        let c = b.conv(&x, 32, 32, 3);
        b.batch_norm(&c, 32)
    });
    case("conv_mul_add", &["fold_conv_add_mul"], "Conv", &|b| {
        let x = conv_input(b);
        let c = b.conv(&x, 32, 32, 3);
        let s = b.weight("s", &[32, 1, 1], 1.0);
        let t = b.weight("t", &[1, 32, 1, 1], 1.0);
        let m = b.node("Mul", &[&c, &s], &[]);
        b.node("Add", &[&m, &t], &[])
    });
    case(
        "conv_relu",
        &["fuse_activation"],
        "burnish::FusedConv",
        &|b| {
            let x = conv_input(b);
            let c = b.conv(&x, 32, 32, 3);
            b.node("Relu", &[&c], &[])
        },
    );
    case(
        "conv_residual_relu",
        &["fuse_conv_residual", "fuse_activation"],
        "burnish::FusedConv",
        &|b| {
            let x = conv_input(b);
            let c = b.conv(&x, 32, 32, 3);
            let a = b.node("Add", &[&c, &x], &[]);
            b.node("Relu", &[&a], &[])
        },
    );
    case(
        "matmul_add",
        &["fuse_matmul_add"],
        "burnish::Linear",
        &|b| {
            let x = seq_input(b);
            let w = b.weight("w", &[256, 256], 0.1);
            let bias = b.weight("bias", &[256], 0.1);
            let m = b.node("MatMul", &[&x, &w], &[]);
            b.node("Add", &[&m, &bias], &[])
        },
    );
    case(
        "gemm_silu",
        &["fuse_activation"],
        "burnish::FusedGemm",
        &|b| {
            let x = b.input("x", &[Some(256), Some(256)]);
            let w = b.weight("w", &[256, 256], 0.1);
            let bias = b.weight("bias", &[256], 0.1);
            let g = b.node("Gemm", &[&x, &w, &bias], &[("transB", Attribute::Int(1))]);
            let s = b.node("Sigmoid", &[&g], &[]);
            b.node("Mul", &[&g, &s], &[])
        },
    );
    case("gelu", &["recognize_gelu"], "Gelu", &|b| {
        let x = seq_input(b);
        let (k, one, half) = (
            scalar(b, "sqrt2", std::f32::consts::SQRT_2),
            scalar(b, "one", 1.0),
            scalar(b, "half", 0.5),
        );
        let d = b.node("Div", &[&x, &k], &[]);
        let e = b.node("Erf", &[&d], &[]);
        let a = b.node("Add", &[&e, &one], &[]);
        let m = b.node("Mul", &[&x, &a], &[]);
        b.node("Mul", &[&m, &half], &[])
    });
    case(
        "layer_norm",
        &["recognize_layer_norm"],
        "LayerNormalization",
        &|b| {
            let x = seq_input(b);
            let axes = [("axes", Attribute::Ints(vec![-1]))];
            let (two, eps) = (scalar(b, "two", 2.0), scalar(b, "eps", 1e-5));
            let (gamma, beta) = (
                b.weight("gamma", &[256], 1.0),
                b.weight("beta", &[256], 1.0),
            );
            let mu = b.node("ReduceMean", &[&x], &axes);
            let d = b.node("Sub", &[&x, &mu], &[]);
            let sq = b.node("Pow", &[&d, &two], &[]);
            let var = b.node("ReduceMean", &[&sq], &axes);
            let ve = b.node("Add", &[&var, &eps], &[]);
            let sd = b.node("Sqrt", &[&ve], &[]);
            let n = b.node("Div", &[&d, &sd], &[]);
            let s = b.node("Mul", &[&n, &gamma], &[]);
            b.node("Add", &[&s, &beta], &[])
        },
    );
    out
}

fn benches(c: &mut Criterion) {
    for case in cases() {
        let mut fused = case.model.clone();
        let options = OptimizeOptions {
            only: case.passes.iter().map(|s| s.to_string()).collect(),
            verify: true,
            ..Default::default()
        };
        PassManager::new(options).unwrap().run(&mut fused).unwrap();
        let hist = fused.graph.op_histogram();
        assert!(hist.contains_key(case.expect), "{}: {hist:?}", case.name);
        assert!(
            hist.len() < case.model.graph.op_histogram().len()
                || fused.graph.nodes.len() < case.model.graph.nodes.len(),
            "{}: nothing fused: {hist:?}",
            case.name
        );
        let inputs = random_inputs(&case.model.graph, &HashMap::new(), 0).unwrap();
        let sessions: Vec<Session> = [&case.model, &fused]
            .iter()
            .map(|m| Session::new(m, SessionOptions::threads(Some(1))).unwrap())
            .collect();
        let want = sessions[0].run(&inputs).unwrap();
        let got = sessions[1].run(&inputs).unwrap();
        // Folding rounds weights to f32 and reorders sums: the error scales with the terms
        // summed, so it is bounded relative to the output's largest magnitude.
        for (k, w) in &want {
            let d = diff(&got[k], w).unwrap();
            let scale = w
                .to_f64_vec()
                .unwrap()
                .iter()
                .fold(0f64, |m, v| m.max(v.abs()));
            assert!(
                d.max_abs <= 1e-5 * scale.max(1e-30),
                "{}: `{k}` max_abs {} of max |y| {scale}",
                case.name,
                d.max_abs
            );
        }
        let mut group = c.benchmark_group(format!("fusion/{}", case.name));
        for (label, session) in ["unfused", "fused"].iter().zip(&sessions) {
            group.bench_function(*label, |b| {
                b.iter(|| {
                    let values = session.prepare_inputs(&inputs).unwrap();
                    session.run_values(values).unwrap()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(
    name = fusions;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches
);
criterion_main!(fusions);
