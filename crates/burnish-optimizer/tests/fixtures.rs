//! Differential tests on every fixture: each level and each pass alone keep the outputs within
//! 1e-5 of the unoptimized model (and within 1e-4 of onnxruntime); export round-trips (within
//! 1e-6, or 1e-5 once fused ops are lowered to standard ones, whose rounding differs); the
//! optimized graph matches its committed snapshot (`BURNISH_UPDATE_SNAPSHOTS=1` rewrites them).

mod common;

use burnish_model::{decode_onnx, encode_onnx};
use burnish_optimizer::{Level, dump_graph, lower_for_export, passes};

#[test]
fn every_fixture_every_level_and_every_pass_alone_keeps_outputs() {
    let names: Vec<&str> = passes::all().iter().map(|p| p.name()).collect();
    for fixture in common::fixture_names() {
        let (model, inputs, ort) = common::fixture(&fixture);
        let base = common::run(&model, &inputs);
        let mut configs: Vec<(Level, Vec<&str>)> =
            vec![(Level::Basic, vec![]), (Level::Extended, vec![])];
        configs.extend(names.iter().map(|p| (Level::Extended, vec![*p])));
        for (level, only) in configs {
            let what = format!("{fixture} {level:?} {only:?}");
            let (opt, _) = common::optimize(&model, level, &only);
            let got = common::run(&opt, &inputs);
            let tol = match (level, only.first()) {
                (Level::Basic, None) => 1e-5,
                (_, p) => common::tolerance(p.copied().unwrap_or("")),
            };
            common::assert_close(&what, &got, &base, tol);
            common::assert_close(&what, &got, &ort, 1e-4);
        }
    }
}

#[test]
fn exported_models_reimport_with_the_same_outputs() {
    for fixture in common::fixture_names() {
        let (model, inputs, _) = common::fixture(&fixture);
        let (opt, _) = common::optimize(&model, Level::Extended, &[]);
        let want = common::run(&opt, &inputs);
        for keep_fused in [false, true] {
            let export = lower_for_export(&opt, keep_fused);
            if !keep_fused {
                assert!(
                    export.graph.nodes.iter().all(|n| n.domain.is_empty()),
                    "{fixture}"
                );
            }
            let bytes = encode_onnx(&export).unwrap();
            let back = decode_onnx(&bytes, &fixture, None).unwrap();
            common::assert_close(
                &format!("{fixture} keep_fused={keep_fused}"),
                &common::run(&back, &inputs),
                &want,
                if keep_fused { 1e-6 } else { 1e-5 },
            );
            let names: Vec<&str> = back.graph.nodes.iter().map(|n| n.name.as_str()).collect();
            for node in &opt.graph.nodes {
                assert!(
                    names.contains(&node.name.as_str()),
                    "{fixture}: node `{}` renamed",
                    node.name
                );
            }
        }
    }
}

#[test]
fn optimized_graphs_match_their_snapshots() {
    let dir = common::root().join("crates/burnish-optimizer/tests/snapshots");
    let update = std::env::var_os("BURNISH_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for fixture in common::fixture_names() {
        let (model, _, _) = common::fixture(&fixture);
        let (opt, _) = common::optimize(&model, Level::Extended, &[]);
        let text = dump_graph(&opt.graph);
        let path = dir.join(format!("{fixture}.txt"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(fixture);
        }
    }
    assert!(
        stale.is_empty(),
        "snapshots differ (BURNISH_UPDATE_SNAPSHOTS=1 to accept): {stale:?}"
    );
}
