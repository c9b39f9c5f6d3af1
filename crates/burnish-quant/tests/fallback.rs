//! The automatic float fallback on a model whose int8 form fails the fidelity floor because
//! of one node (`tests/fixtures/quant_fallback`, made by `gen_quant_fallback.py`): `b` reads a
//! tensor whose per-tensor range a channel it ignores blows up.

use std::path::PathBuf;

use burnish_model::{Model, Samples, load_onnx};
use burnish_quant::fallback::{FallbackOptions, FellBack, float_fallback};
use burnish_quant::{Calibration, QuantConfig};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/quant_fallback")
        .join(name)
}

/// The fallback on the fixture, its calibration samples also the floor's.
fn fall_back(cfg: &QuantConfig, opts: &FallbackOptions) -> FellBack {
    let model = load_onnx(fixture("model.onnx")).unwrap();
    let calibration = Calibration::from_npz(fixture("calibration.npz")).unwrap();
    let samples = Samples::read(&model.graph, &fixture("calibration.npz")).unwrap();
    float_fallback(&model, cfg, Some(&calibration), &samples, opts).unwrap()
}

/// The node a QDQ model's `node` reads its first input from.
fn input_producer<'m>(model: &'m Model, node: &str) -> Option<&'m str> {
    let n = model.graph.nodes.iter().find(|n| n.name == node)?;
    let x = n.input(0)?;
    model
        .graph
        .nodes
        .iter()
        .find(|p| p.outputs.iter().any(|o| o == x))
        .map(|p| p.op_type.as_str())
}

#[test]
fn the_node_that_breaks_the_floor_stays_float_and_reads_float() {
    let f = fall_back(&QuantConfig::default(), &FallbackOptions::default());
    let first = &f.record.rounds[0];
    assert!(first.float_nodes.is_empty() && !first.met, "{first:?}");
    assert!(first.worst_cosine < 0.99, "{first:?}");
    assert_eq!(f.record.ranking[0].node, "b", "{:?}", f.record.ranking);
    assert!(f.record.met && f.floor.met(), "{:?}", f.record.rounds);
    assert_eq!(f.record.kept_float, ["b"]);
    let b = f
        .quantized
        .record
        .nodes
        .iter()
        .find(|d| d.node == "b")
        .unwrap();
    assert!(!b.quantized, "{b:?}");
    assert!(
        f.quantized
            .record
            .nodes
            .iter()
            .filter(|d| d.node != "b")
            .all(|d| d.quantized)
    );
    // Kept float means float inputs: `b` reads `a`'s output, not its dequantized codes.
    assert_eq!(input_producer(&f.quantized.qdq, "b"), Some("Conv"));
    assert_eq!(
        input_producer(&f.quantized.qdq, "c"),
        Some("DequantizeLinear")
    );
}

#[test]
fn a_model_that_meets_the_floor_runs_one_round() {
    let cfg = QuantConfig {
        exclude_nodes: vec!["b".into()],
        ..QuantConfig::default()
    };
    let f = fall_back(&cfg, &FallbackOptions::default());
    assert_eq!(f.record.rounds.len(), 1, "{:?}", f.record.rounds);
    assert!(f.record.met && f.record.kept_float.is_empty() && f.record.ranking.is_empty());
}

#[test]
fn without_a_round_left_the_fully_quantized_model_is_kept_and_flagged() {
    let opts = FallbackOptions {
        max_rounds: 0,
        ..FallbackOptions::default()
    };
    let f = fall_back(&QuantConfig::default(), &opts);
    assert!(!f.record.met && !f.floor.met());
    assert!(f.record.kept_float.is_empty());
    assert!(f.quantized.record.nodes.iter().all(|d| d.quantized));
}
