//! Error paths of the ai.onnx.ml ops: mismatched attribute lengths, out-of-range ids, cyclic
//! trees and wrong input types give `Err`, never a panic.

use burnish_model::{Attribute, Buffer, TensorData};

use crate::ops::test_support::run_node;
use crate::value::Value;

fn run(
    op: &str,
    attrs: &[(&str, Attribute)],
    inputs: Vec<TensorData>,
) -> Result<Vec<Value>, String> {
    run_node(
        "ai.onnx.ml",
        op,
        attrs,
        17,
        inputs.into_iter().map(Some).collect(),
    )
}

fn ints(v: &[i64]) -> Attribute {
    Attribute::Ints(v.to_vec())
}

fn strings(v: &[&str]) -> Attribute {
    Attribute::Strings(v.iter().map(|s| s.to_string()).collect())
}

fn tensor(data: Buffer) -> Attribute {
    Attribute::Tensor(TensorData::new(vec![data.len()], data).expect("shape"))
}

#[test]
fn label_encoder_errors() {
    let x = TensorData::new(vec![2], Buffer::String(vec!["a".into(), "q".into()])).expect("shape");
    let short = [
        ("keys_strings", strings(&["a", "b"])),
        ("values_int64s", ints(&[1])),
    ];
    assert!(run("LabelEncoder", &short, vec![x.clone()]).is_err());
    assert!(
        run(
            "LabelEncoder",
            &[("values_int64s", ints(&[1]))],
            vec![x.clone()]
        )
        .is_err()
    );
    let ok = [
        ("keys_strings", strings(&["a"])),
        ("values_int64s", ints(&[1])),
    ];
    let y = run("LabelEncoder", &ok, vec![x]).expect("runs");
    assert_eq!(y[0].to_i64_vec().expect("ints"), vec![1, -1]);
    let f = TensorData::from_f32(vec![1], vec![1.0]);
    assert!(run("LabelEncoder", &ok, vec![f]).is_err());
    let bad_default = [
        ("keys_tensor", tensor(Buffer::I64(vec![1]))),
        ("values_tensor", tensor(Buffer::I16(vec![1]))),
        ("default_tensor", tensor(Buffer::I32(vec![1, 2]))),
    ];
    assert!(
        run(
            "LabelEncoder",
            &bad_default,
            vec![TensorData::from_i64(vec![1], vec![1])]
        )
        .is_err()
    );
}

/// A one-branch tree: node 0 compares feature `feature`, leads to leaves 0 and 1 or, when
/// `cycle`, back to itself.
fn tree_attrs(feature: i64, cycle: bool) -> Vec<(&'static str, Attribute)> {
    vec![
        ("nodes_featureids", ints(&[feature])),
        ("nodes_modes", tensor(Buffer::U8(vec![0]))),
        ("nodes_splits", tensor(Buffer::F32(vec![0.5]))),
        ("nodes_truenodeids", ints(&[0])),
        ("nodes_trueleafs", ints(&[if cycle { 0 } else { 1 }])),
        ("nodes_falsenodeids", ints(&[1])),
        ("nodes_falseleafs", ints(&[1])),
        ("leaf_targetids", ints(&[0, 1])),
        ("leaf_weights", tensor(Buffer::F32(vec![1.0, 2.0]))),
        ("tree_roots", ints(&[0])),
        ("n_targets", Attribute::Int(2)),
    ]
}

#[test]
fn tree_ensemble_errors() {
    let x = TensorData::from_f32(vec![2, 1], vec![0.0, 1.0]);
    let y = run("TreeEnsemble", &tree_attrs(0, false), vec![x.clone()]).expect("runs");
    assert_eq!(y[0].to_f64_vec().expect("floats"), vec![1.0, 0.0, 0.0, 2.0]);
    let e = run("TreeEnsemble", &tree_attrs(0, true), vec![x.clone()]).expect_err("cycle");
    assert!(e.contains("cycle"), "{e}");
    assert!(run("TreeEnsemble", &tree_attrs(3, false), vec![x.clone()]).is_err());
    let mut bad = tree_attrs(0, false);
    bad[3] = ("nodes_truenodeids", ints(&[0, 0]));
    assert!(run("TreeEnsemble", &bad, vec![x.clone()]).is_err());
    let mut bad = tree_attrs(0, false);
    bad[7] = ("leaf_targetids", ints(&[0, 5]));
    assert!(run("TreeEnsemble", &bad, vec![x.clone()]).is_err());
    let mut bad = tree_attrs(0, false);
    bad[1] = ("nodes_modes", tensor(Buffer::U8(vec![9])));
    assert!(run("TreeEnsemble", &bad, vec![x.clone()]).is_err());
    let mut bad = tree_attrs(0, false);
    bad.push(("post_transform", Attribute::Int(7)));
    assert!(run("TreeEnsemble", &bad, vec![x]).is_err());
}

#[test]
fn feature_extractor_and_binarizer_errors() {
    let x = TensorData::from_f32(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]);
    let i = TensorData::from_i64(vec![1], vec![2]);
    assert!(run("ArrayFeatureExtractor", &[], vec![x.clone(), i]).is_err());
    let neg = TensorData::from_i64(vec![1], vec![-1]);
    assert!(run("ArrayFeatureExtractor", &[], vec![x.clone(), neg]).is_err());
    let s = TensorData::new(vec![1], Buffer::String(vec!["a".into()])).expect("shape");
    assert!(run("Binarizer", &[], vec![s]).is_err());
    let y = run(
        "Binarizer",
        &[("threshold", Attribute::Float(2.5))],
        vec![x],
    )
    .expect("runs");
    assert_eq!(y[0].to_f64_vec().expect("floats"), vec![0.0, 0.0, 1.0, 1.0]);
}

fn legacy_attrs(true_id: i64) -> Vec<(&'static str, Attribute)> {
    vec![
        ("nodes_treeids", ints(&[0, 0, 0])),
        ("nodes_nodeids", ints(&[0, 1, 2])),
        ("nodes_featureids", ints(&[0, 0, 0])),
        ("nodes_modes", strings(&["BRANCH_LEQ", "LEAF", "LEAF"])),
        ("nodes_values", Attribute::Floats(vec![0.5, 0.0, 0.0])),
        ("nodes_truenodeids", ints(&[true_id, 0, 0])),
        ("nodes_falsenodeids", ints(&[2, 0, 0])),
        ("target_treeids", ints(&[0, 0])),
        ("target_nodeids", ints(&[1, 2])),
        ("target_ids", ints(&[0, 0])),
        ("target_weights", Attribute::Floats(vec![1.0, 2.0])),
    ]
}

#[test]
fn legacy_tree_and_linear_errors() {
    let x = TensorData::from_f32(vec![2, 1], vec![0.0, 1.0]);
    let y = run("TreeEnsembleRegressor", &legacy_attrs(1), vec![x.clone()]).expect("runs");
    assert_eq!(y[0].to_f64_vec().expect("floats"), vec![1.0, 2.0]);
    assert!(run("TreeEnsembleRegressor", &legacy_attrs(7), vec![x.clone()]).is_err());
    let mut bad = legacy_attrs(1);
    bad[1] = ("nodes_nodeids", ints(&[0, 1, 1]));
    assert!(run("TreeEnsembleRegressor", &bad, vec![x.clone()]).is_err());
    let mut bad = legacy_attrs(1);
    bad[3] = ("nodes_modes", strings(&["BRANCH_XX", "LEAF", "LEAF"]));
    assert!(run("TreeEnsembleRegressor", &bad, vec![x.clone()]).is_err());
    let mut bad = legacy_attrs(1);
    bad[8] = ("target_nodeids", ints(&[0, 2]));
    assert!(run("TreeEnsembleRegressor", &bad, vec![x.clone()]).is_err());
    let mut one_label = legacy_attrs(1);
    one_label.push(("classlabels_int64s", ints(&[3])));
    assert!(run("TreeEnsembleClassifier", &one_label, vec![x.clone()]).is_err());
    let lin = [
        ("coefficients", Attribute::Floats(vec![1.0, 2.0, 3.0])),
        ("intercepts", Attribute::Floats(vec![0.0, 1.0])),
    ];
    assert!(run("LinearClassifier", &lin, vec![x.clone()]).is_err());
    let reg = [
        ("coefficients", Attribute::Floats(vec![1.0, 2.0])),
        ("targets", Attribute::Int(1)),
    ];
    assert!(run("LinearRegressor", &reg, vec![x.clone()]).is_err());
    assert!(
        run(
            "Normalizer",
            &[("norm", Attribute::String("L3".into()))],
            vec![x.clone()]
        )
        .is_err()
    );
    let sc = [("scale", Attribute::Floats(vec![1.0, 2.0, 3.0]))];
    assert!(run("Scaler", &sc, vec![x]).is_err());
}
