//! Semantics and error paths of the sequence family: positions out of range, bad attributes
//! and wrong value kinds give `Err`, never a panic.

use burnish_model::{Attribute, Attributes, Node, TensorData};

use super::OPS;
use crate::ops::{BuildCtx, Inputs, Op};
use crate::value::Value;

fn build(op: &str, inputs: &[&str], attrs: &[(&str, Attribute)]) -> Result<Box<dyn Op>, String> {
    let node = Node {
        name: op.into(),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: vec!["y".into()],
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Attributes>(),
    };
    let ctx = BuildCtx::with_consts(&node, 18, vec![None; inputs.len()]);
    let (_, b) = OPS
        .iter()
        .find(|(name, _)| *name == op)
        .ok_or("not registered")?;
    b(&ctx)
}

fn run(op: &str, attrs: &[(&str, Attribute)], inputs: Vec<Option<Value>>) -> Result<Value, String> {
    let names: Vec<String> = (0..inputs.len()).map(|i| format!("x{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let o = build(op, &names, attrs)?;
    o.run(Inputs::new(inputs))?
        .into_iter()
        .next()
        .ok_or_else(|| "no output".to_string())
}

fn f32s(shape: &[usize], v: &[f32]) -> Value {
    Value::from_data(&TensorData::from_f32(shape.to_vec(), v.to_vec())).expect("upload")
}

fn i64s(shape: &[usize], v: &[i64]) -> Value {
    Value::from_data(&TensorData::from_i64(shape.to_vec(), v.to_vec())).expect("upload")
}

fn seq3() -> Value {
    Value::Sequence(vec![
        f32s(&[1], &[1.0]),
        f32s(&[1], &[2.0]),
        f32s(&[1], &[3.0]),
    ])
}

fn len(v: &Value) -> usize {
    match v {
        Value::Sequence(items) => items.len(),
        _ => usize::MAX,
    }
}

#[test]
fn sequence_at_out_of_range_is_an_error() {
    let e = run("SequenceAt", &[], vec![Some(seq3()), Some(i64s(&[], &[5]))]);
    assert_eq!(
        e.err().as_deref(),
        Some("SequenceAt position 5 is out of range for a sequence of 3")
    );
    assert!(
        run(
            "SequenceAt",
            &[],
            vec![Some(seq3()), Some(i64s(&[], &[-4]))]
        )
        .is_err()
    );
    let last = run(
        "SequenceAt",
        &[],
        vec![Some(seq3()), Some(i64s(&[], &[-1]))],
    );
    assert_eq!(last.and_then(|v| v.host_f64()), Ok(vec![3.0]));
}

#[test]
fn insert_and_erase_positions() {
    let ins = |p: i64| {
        run(
            "SequenceInsert",
            &[],
            vec![
                Some(seq3()),
                Some(f32s(&[1], &[9.0])),
                Some(i64s(&[], &[p])),
            ],
        )
    };
    assert_eq!(ins(3).map(|v| len(&v)), Ok(4));
    assert_eq!(ins(-3).map(|v| len(&v)), Ok(4));
    assert!(ins(4).is_err());
    assert!(ins(-4).is_err());
    let wrong_type = run(
        "SequenceInsert",
        &[],
        vec![Some(seq3()), Some(i64s(&[1], &[9]))],
    );
    assert!(wrong_type.is_err());
    let erased = run("SequenceErase", &[], vec![Some(seq3())]);
    assert_eq!(erased.map(|v| len(&v)), Ok(2));
    let empty = Value::Sequence(Vec::new());
    assert!(run("SequenceErase", &[], vec![Some(empty)]).is_err());
    assert!(run("SequenceLength", &[], vec![Some(f32s(&[1], &[1.0]))]).is_err());
}

#[test]
fn bad_attributes_are_errors() {
    assert!(build("SequenceEmpty", &[], &[("dtype", Attribute::Int(99))]).is_err());
    assert!(build("ConcatFromSequence", &["x"], &[]).is_err());
    let new_axis = [("axis", Attribute::Int(0)), ("new_axis", Attribute::Int(2))];
    assert!(build("ConcatFromSequence", &["x"], &new_axis).is_err());
    assert!(build("Optional", &[], &[]).is_err());
}

#[test]
fn concat_checks_shapes_and_emptiness() {
    let axis = [("axis", Attribute::Int(0))];
    let empty = Value::Sequence(Vec::new());
    assert!(run("ConcatFromSequence", &axis, vec![Some(empty)]).is_err());
    let mixed = Value::Sequence(vec![f32s(&[1, 2], &[1.0, 2.0]), f32s(&[1, 1], &[3.0])]);
    assert!(run("ConcatFromSequence", &axis, vec![Some(mixed)]).is_err());
    let bad_axis = [("axis", Attribute::Int(3))];
    assert!(run("ConcatFromSequence", &bad_axis, vec![Some(seq3())]).is_err());
    let stacked = run(
        "ConcatFromSequence",
        &[
            ("axis", Attribute::Int(-1)),
            ("new_axis", Attribute::Int(1)),
        ],
        vec![Some(seq3())],
    );
    assert_eq!(stacked.map(|v| v.shape()), Ok(vec![1, 3]));
}

#[test]
fn split_checks_lengths() {
    let x = || Some(f32s(&[5], &[1.0, 2.0, 3.0, 4.0, 5.0]));
    let chunks = run("SplitToSequence", &[], vec![x(), Some(i64s(&[], &[2]))]);
    assert_eq!(chunks.map(|v| len(&v)), Ok(3));
    assert!(run("SplitToSequence", &[], vec![x(), Some(i64s(&[], &[0]))]).is_err());
    assert!(run("SplitToSequence", &[], vec![x(), Some(i64s(&[2], &[2, 2]))]).is_err());
    assert!(
        run(
            "SplitToSequence",
            &[],
            vec![x(), Some(i64s(&[2], &[6, -1]))]
        )
        .is_err()
    );
    let axis = [("axis", Attribute::Int(1))];
    assert!(run("SplitToSequence", &axis, vec![x()]).is_err());
    assert!(run("SplitToSequence", &[], vec![Some(f32s(&[], &[1.0]))]).is_err());
}

#[test]
fn optionals() {
    let empty = run("OptionalGetElement", &[], vec![Some(Value::Optional(None))]);
    assert!(empty.is_err());
    let has = run("OptionalHasElement", &[], vec![None]);
    assert_eq!(has.and_then(|v| v.host_i64()), Ok(vec![0]));
    let nested = run("Optional", &[], vec![Some(Value::Optional(None))]);
    assert!(nested.is_err());
}
