//! Per-pass fixtures from `tests/fixtures/gen/gen_passes.py`: each pass fires where it must,
//! refuses where it must, and never changes the outputs.

mod common;

use std::collections::BTreeMap;

use burnish_eval::seeded_inputs;
use burnish_model::load_onnx;
use burnish_optimizer::{Level, lower_for_export};

#[test]
fn every_pass_fires_exactly_where_it_must() {
    let dir = common::root().join("tests/fixtures/passes");
    let cases: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (name, case) in &cases {
        let pass = case["pass"].as_str().unwrap();
        let fire = case["expect_fire"].as_bool().unwrap();
        let model = load_onnx(dir.join(format!("{name}.onnx"))).unwrap();
        let (opt, record) = common::optimize(&model, Level::Extended, &[pass]);
        let changes: usize = record
            .passes
            .iter()
            .filter(|p| p.name == pass)
            .map(|p| p.changes)
            .sum();
        if (changes > 0) != fire {
            failures.push(format!(
                "{name}: {pass} made {changes} changes, expected fire={fire}"
            ));
        }
        let inputs = seeded_inputs(&model, 7).unwrap();
        common::assert_close(
            name,
            &common::run(&opt, &inputs),
            &common::run(&model, &inputs),
            common::tolerance(pass),
        );
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn fusions_produce_the_expected_ops() {
    let dir = common::root().join("tests/fixtures/passes");
    let expect = [
        ("conv_bn_fire", "fuse_conv_batchnorm", "Conv"),
        ("matmul_add_fire", "fuse_matmul_add", "burnish::Linear"),
        (
            "conv_residual_fire",
            "fuse_conv_residual",
            "burnish::FusedConv",
        ),
        ("matmul_add_2d_fire", "fuse_matmul_add", "Gemm"),
        ("gelu_erf_fire", "recognize_gelu", "Gelu"),
        ("gelu_tanh_fire", "recognize_gelu", "Gelu"),
        (
            "layer_norm_fire",
            "recognize_layer_norm",
            "LayerNormalization",
        ),
    ];
    for (name, pass, op) in expect {
        let model = load_onnx(dir.join(format!("{name}.onnx"))).unwrap();
        let (opt, _) = common::optimize(&model, Level::Extended, &[pass, "eliminate_dead_nodes"]);
        let hist = opt.graph.op_histogram();
        assert_eq!(
            hist.keys().collect::<Vec<_>>(),
            vec![op],
            "{name}: {hist:?}"
        );
    }
    let model = load_onnx(dir.join("activation_fire.onnx")).unwrap();
    let (opt, _) = common::optimize(&model, Level::Extended, &["fuse_activation"]);
    let hist = opt.graph.op_histogram();
    for op in [
        "burnish::FusedConv",
        "burnish::FusedGemm",
        "burnish::FusedMatMul",
    ] {
        assert_eq!(hist.get(op), Some(&1), "{hist:?}");
    }
    assert!(
        !hist.contains_key("Relu") && !hist.contains_key("Sigmoid") && !hist.contains_key("Clip")
    );
}

#[test]
fn residual_and_activation_fuse_into_one_conv_and_lower_back() {
    let dir = common::root().join("tests/fixtures/passes");
    let model = load_onnx(dir.join("conv_residual_two_convs_relu.onnx")).unwrap();
    let (opt, _) = common::optimize(&model, Level::Extended, &[]);
    let fused: Vec<_> = opt
        .graph
        .nodes
        .iter()
        .filter(|n| n.op_type == "FusedConv")
        .collect();
    assert_eq!(fused.len(), 1, "{:?}", opt.graph.op_histogram());
    assert_eq!(fused[0].input(3), Some("s"));
    assert_eq!(
        fused[0].attrs.get("activation"),
        Some(&burnish_model::Attribute::String("Relu".into()))
    );
    let export = lower_for_export(&opt, false);
    let hist = export.graph.op_histogram();
    assert_eq!(
        hist.into_iter().collect::<Vec<_>>(),
        [
            ("Add".to_string(), 1),
            ("Conv".to_string(), 2),
            ("Relu".to_string(), 1)
        ]
    );
    let inputs = seeded_inputs(&model, 3).unwrap();
    let want = common::run(&model, &inputs);
    common::assert_close("fused", &common::run(&opt, &inputs), &want, 1e-6);
    common::assert_close("lowered", &common::run(&export, &inputs), &want, 1e-6);
}
