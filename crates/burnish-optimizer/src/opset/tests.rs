//! Each legacy form, converted, computes what the original computes (burnish runs both: its
//! runtime reads each op in the form of the model's opset), and the result passes the checker.
//! onnxruntime is the reference in the opset-11/12 fixture tests (`tests/quant_opset.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::{Attribute, DType, Dim, Graph, Model, Node, TensorData, ValueInfo};

use super::*;
use burnish_eval::compare_models;

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, Attribute)>) -> Node {
    Node {
        name: format!("{op}_{}", outputs[0]),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

fn ints(v: &[i64]) -> Attribute {
    Attribute::Ints(v.to_vec())
}

/// A model at `opset` with input `x` f32 [2, 3, 4, 5] (rank undeclared when `hide_rank`).
fn model(opset: i64, nodes: Vec<Node>, outputs: &[&str], hide_rank: bool) -> Model {
    let shape = (!hide_rank).then(|| [2, 3, 4, 5].map(Dim::Fixed).to_vec());
    Model {
        graph: Graph {
            name: "g".into(),
            inputs: vec![ValueInfo {
                name: "x".into(),
                dtype: Some(DType::F32),
                shape,
            }],
            outputs: outputs
                .iter()
                .map(|o| ValueInfo {
                    name: o.to_string(),
                    dtype: None,
                    shape: None,
                })
                .collect(),
            initializers: BTreeMap::from([(
                "b".to_string(),
                Arc::new(TensorData::from_f32(vec![3], vec![0.5, -1.0, 2.0])),
            )]),
            nodes,
            value_info: Default::default(),
        },
        opsets: BTreeMap::from([(String::new(), opset)]),
        ir_version: 3,
        ..Default::default()
    }
}

fn input() -> BTreeMap<String, TensorData> {
    let v: Vec<f32> = (0..120)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0)
        .collect();
    BTreeMap::from([("x".to_string(), TensorData::from_f32(vec![2, 3, 4, 5], v))])
}

/// Converts `m` to `to`, checks the rewritten op types, and compares outputs with the original.
fn converts_equal(m: Model, to: i64) -> Model {
    let mut raised = m.clone();
    let rec = convert_opset(&mut raised, to).expect("converts");
    assert_eq!((rec.from, rec.to, raised.opset()), (m.opset(), to, to));
    for d in compare_models(&m, &raised, &input()).expect("both run") {
        assert!(
            d.diff.max_abs <= 1e-6,
            "{}: max abs {}",
            d.name,
            d.diff.max_abs
        );
    }
    raised
}

#[test]
fn axes_and_attributes_become_inputs() {
    let m = model(
        7,
        vec![
            node("Unsqueeze", &["x"], &["u"], vec![("axes", ints(&[0]))]),
            node("Squeeze", &["u"], &["s"], vec![("axes", ints(&[0]))]),
            node(
                "Slice",
                &["s"],
                &["sl"],
                vec![
                    ("starts", ints(&[1])),
                    ("ends", ints(&[4])),
                    ("axes", ints(&[3])),
                ],
            ),
            node(
                "Clip",
                &["sl"],
                &["c"],
                vec![
                    ("min", Attribute::Float(-1.0)),
                    ("max", Attribute::Float(2.0)),
                ],
            ),
            node(
                "Pad",
                &["c"],
                &["p"],
                vec![
                    ("pads", ints(&[0, 0, 1, 0, 0, 0, 0, 2])),
                    ("value", Attribute::Float(0.25)),
                ],
            ),
            node(
                "ReduceSum",
                &["p"],
                &["r"],
                vec![("axes", ints(&[2])), ("keepdims", Attribute::Int(0))],
            ),
            node("ReduceMean", &["p"], &["rm"], vec![("axes", ints(&[1]))]),
            node(
                "Split",
                &["r"],
                &["s1", "s2"],
                vec![("axis", Attribute::Int(2)), ("split", ints(&[1, 4]))],
            ),
            node(
                "TopK",
                &["s2"],
                &["tv", "ti"],
                vec![("k", Attribute::Int(2)), ("axis", Attribute::Int(-1))],
            ),
        ],
        &["s1", "tv", "ti", "rm"],
        false,
    );
    let raised = converts_equal(m.clone(), 13);
    let sq = raised
        .graph
        .nodes
        .iter()
        .find(|n| n.op_type == "Squeeze")
        .unwrap();
    assert!(sq.attrs.is_empty() && sq.inputs.len() == 2);
    let raised = converts_equal(m, 18);
    let rm = raised
        .graph
        .nodes
        .iter()
        .find(|n| n.op_type == "ReduceMean")
        .unwrap();
    assert!(!rm.attrs.contains_key("axes") && rm.inputs.len() == 2);
}

#[test]
fn softmax_keeps_the_coerced_meaning() {
    for (axis, hide_rank, extra_nodes) in
        [(1, false, 3), (2, true, 3), (3, false, 0), (-1, true, 0)]
    {
        let m = model(
            11,
            vec![node(
                "Softmax",
                &["x"],
                &["y"],
                vec![("axis", Attribute::Int(axis))],
            )],
            &["y"],
            hide_rank,
        );
        let raised = converts_equal(m, 13);
        assert_eq!(raised.graph.nodes.len(), 1 + extra_nodes, "axis {axis}");
    }
    let m = model(
        9,
        vec![node("LogSoftmax", &["x"], &["y"], vec![])],
        &["y"],
        false,
    );
    converts_equal(m, 13);
}

#[test]
fn legacy_ops_and_flags() {
    let mut m = model(
        7,
        vec![
            node("Add", &["x", "b"], &["a"], vec![]),
            node(
                "Dropout",
                &["a"],
                &["d"],
                vec![("ratio", Attribute::Float(0.3))],
            ),
            node(
                "Upsample",
                &["d"],
                &["up"],
                vec![("scales", Attribute::Floats(vec![1.0, 1.0, 2.0, 3.0]))],
            ),
            node("Relu", &["up"], &["y"], vec![]),
        ],
        &["y"],
        false,
    );
    let b = TensorData::from_f32(vec![5], vec![0.5, -1.0, 2.0, 0.0, 1.0]);
    m.graph.initializers.insert("b".into(), Arc::new(b));
    let raised = converts_equal(m, 13);
    let ops: Vec<&str> = raised
        .graph
        .nodes
        .iter()
        .map(|n| n.op_type.as_str())
        .collect();
    assert_eq!(ops, ["Add", "Dropout", "Resize", "Relu"]);
    let resize = &raised.graph.nodes[2];
    assert_eq!(
        resize.attrs.get("nearest_mode"),
        Some(&Attribute::String("floor".into()))
    );
}

#[test]
fn opset_5_flags_are_dropped_and_axis_broadcast_aligned() {
    let m = model(
        5,
        vec![
            node(
                "Add",
                &["x", "b"],
                &["a"],
                vec![
                    ("broadcast", Attribute::Int(1)),
                    ("axis", Attribute::Int(1)),
                ],
            ),
            node(
                "Relu",
                &["a"],
                &["y"],
                vec![("consumed_inputs", ints(&[0]))],
            ),
        ],
        &["y"],
        false,
    );
    let mut raised = m.clone();
    convert_opset(&mut raised, 13).expect("converts");
    let add = &raised.graph.nodes[0];
    assert!(add.attrs.is_empty() && raised.graph.nodes[1].attrs.is_empty());
    let b = &raised.graph.initializers[&add.inputs[1]];
    assert_eq!(b.shape, [3, 1, 1], "B's dims start at axis 1 of a rank-4 A");
}

#[test]
fn unknown_conversions_are_refused_with_the_node() {
    let m = model(
        18,
        vec![node(
            "GroupNormalization",
            &["x", "b", "b"],
            &["y"],
            vec![("num_groups", Attribute::Int(3))],
        )],
        &["y"],
        false,
    );
    let mut raised = m.clone();
    let err = convert_opset(&mut raised, 21).unwrap_err().to_string();
    assert!(
        err.contains("node `GroupNormalization_y` (GroupNormalization)"),
        "{err}"
    );
    assert!(err.contains("per-group"), "{err}");
    assert_eq!(raised, m, "a refused conversion leaves the model as it was");
    let mut m = model(
        11,
        vec![node("ImageScaler", &["x"], &["y"], vec![])],
        &["y"],
        false,
    );
    let err = convert_opset(&mut m, 13).unwrap_err().to_string();
    assert!(err.contains("no op `ImageScaler` at opset 11"), "{err}");
}

#[test]
fn every_schema_change_up_to_the_target_has_a_decision() {
    let mut missing = Vec::new();
    for s in schema::all().iter().filter(|s| s.domain.is_empty()) {
        let (op, v) = (s.op, s.since);
        let first = schema::versions(op)[0];
        if v > first && v <= MAX_TARGET && step(op, v).is_none() {
            missing.push(format!("{op}-{v}"));
        }
    }
    assert!(missing.is_empty(), "no decision for {missing:?}");
}

#[test]
fn an_op_newer_than_the_model_opset_starts_at_its_first_version() {
    let mut m = model(
        13,
        vec![
            node("Unsqueeze", &["x", "axes"], &["u"], vec![]),
            node(
                "LayerNormalization",
                &["u", "s"],
                &["y"],
                vec![("axis", Attribute::Int(-1))],
            ),
        ],
        &["y"],
        false,
    );
    let g = &mut m.graph;
    g.initializers.insert(
        "axes".into(),
        Arc::new(TensorData::from_i64(vec![1], vec![0])),
    );
    g.initializers.insert(
        "s".into(),
        Arc::new(TensorData::from_f32(vec![5], vec![1.0; 5])),
    );
    let mut below = m.clone();
    let err = convert_opset(&mut below, 16).unwrap_err().to_string();
    assert!(
        err.contains("no op `LayerNormalization` at opset 13"),
        "{err}"
    );
    let rec = convert_opset(&mut m, 17).unwrap();
    assert_eq!(m.opset(), 17);
    assert!(rec.rewritten.is_empty(), "{:?}", rec.rewritten);
    assert!(
        m.graph
            .nodes
            .iter()
            .any(|n| n.op_type == "LayerNormalization")
    );
}
