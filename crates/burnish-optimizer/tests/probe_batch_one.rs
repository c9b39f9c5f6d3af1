//! The shape probe runs symbolic dims at 1 as well: a graph that branches on `batch == 1` keeps
//! its branch after `fold_shape_subgraphs`, and the optimized model agrees with the original at
//! batch 1 and at larger batches.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::{DType, Dim, Graph, Model, Node, TensorData, ValueInfo};
use burnish_optimizer::Level;

fn node(op: &str, inputs: &[&str], output: &str) -> Node {
    Node {
        name: output.into(),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: vec![output.into()],
        attrs: Default::default(),
    }
}

/// `y = x + (10 if batch == 1 else 0)` for `x[batch, 4]`.
fn branch_on_batch_one() -> Model {
    let scalar_i64 = |v| Arc::new(TensorData::from_i64(vec![], vec![v]));
    let scalar_f32 = |v| Arc::new(TensorData::from_f32(vec![], vec![v]));
    let info = |name: &str, shape| ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: Some(shape),
    };
    let graph = Graph {
        name: "batch_one".into(),
        inputs: vec![info(
            "x",
            vec![Dim::Symbolic("batch".into()), Dim::Fixed(4)],
        )],
        outputs: vec![info(
            "y",
            vec![Dim::Symbolic("batch".into()), Dim::Fixed(4)],
        )],
        initializers: BTreeMap::from([
            ("zero_index".to_string(), scalar_i64(0)),
            ("one".to_string(), scalar_i64(1)),
            ("ten".to_string(), scalar_f32(10.0)),
            ("nothing".to_string(), scalar_f32(0.0)),
        ]),
        nodes: vec![
            node("Shape", &["x"], "shape"),
            node("Gather", &["shape", "zero_index"], "batch"),
            node("Equal", &["batch", "one"], "is_one"),
            node("Where", &["is_one", "ten", "nothing"], "offset"),
            node("Add", &["x", "offset"], "y"),
        ],
        ..Graph::default()
    };
    let mut opsets = BTreeMap::new();
    opsets.insert(String::new(), 17);
    Model {
        graph,
        opsets,
        ir_version: 8,
        ..Model::default()
    }
}

#[test]
fn a_branch_on_batch_one_is_not_folded() {
    let model = branch_on_batch_one();
    let (opt, _) = common::optimize(&model, Level::Extended, &["fold_shape_subgraphs"]);
    assert!(
        opt.graph.nodes.iter().any(|n| n.op_type == "Where"),
        "the batch == 1 branch was folded away"
    );
    for batch in [1, 2, 5] {
        let x = TensorData::from_f32(vec![batch, 4], (0..batch * 4).map(|i| i as f32).collect());
        let inputs = BTreeMap::from([("x".to_string(), x)]);
        let want = common::run(&model, &inputs);
        let expected: Vec<f32> = (0..batch * 4)
            .map(|i| i as f32 + if batch == 1 { 10.0 } else { 0.0 })
            .collect();
        assert_eq!(
            want["y"].to_f64_vec().unwrap(),
            expected.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()
        );
        assert_eq!(common::run(&opt, &inputs)["y"], want["y"], "batch {batch}");
    }
}
