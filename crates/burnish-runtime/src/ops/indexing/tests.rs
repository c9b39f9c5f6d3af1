//! Error paths and small semantics checks of the indexing family: bad attributes and
//! out-of-range indices give `Err`, never a panic.

use burnish_model::{Attribute, Attributes, Buffer, Node, TensorData};

use super::OPS;
use crate::ops::{BuildCtx, Inputs};
use crate::value::Value;

fn node(op: &str, n_inputs: usize, attrs: &[(&str, Attribute)]) -> Node {
    Node {
        name: op.into(),
        op_type: op.into(),
        domain: String::new(),
        inputs: (0..n_inputs).map(|i| format!("x{i}")).collect(),
        outputs: vec!["y".into()],
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Attributes>(),
    }
}

fn build(
    op: &str,
    opset: i64,
    n: usize,
    attrs: &[(&str, Attribute)],
) -> Result<Box<dyn crate::ops::Op>, String> {
    let node = node(op, n, attrs);
    let ctx = BuildCtx::with_consts(&node, opset, vec![None; n]);
    let (_, b) = OPS
        .iter()
        .find(|(name, _)| *name == op)
        .ok_or("not registered")?;
    b(&ctx)
}

fn run(
    op: &str,
    attrs: &[(&str, Attribute)],
    inputs: Vec<TensorData>,
) -> Result<Vec<TensorData>, String> {
    let o = build(op, 18, inputs.len(), attrs)?;
    let vals = inputs
        .iter()
        .map(|t| Value::upload(t).map(Some))
        .collect::<Result<Vec<_>, _>>()?;
    o.run(Inputs::new(vals))?.iter().map(Value::host).collect()
}

fn f32s(shape: &[usize], v: &[f32]) -> TensorData {
    TensorData::from_f32(shape.to_vec(), v.to_vec())
}

fn i64s(shape: &[usize], v: &[i64]) -> TensorData {
    TensorData::from_i64(shape.to_vec(), v.to_vec())
}

fn s(v: &str) -> Attribute {
    Attribute::String(v.into())
}

#[test]
fn scatters_reject_out_of_range_indices_and_bad_reductions() {
    let data = f32s(&[2, 3], &[0.0; 6]);
    let e = run(
        "ScatterElements",
        &[("axis", Attribute::Int(1))],
        vec![data.clone(), i64s(&[1, 1], &[3]), f32s(&[1, 1], &[1.0])],
    )
    .unwrap_err();
    assert!(e.contains("out of range"), "{e}");
    let e = run(
        "ScatterND",
        &[],
        vec![data.clone(), i64s(&[1, 2], &[0, -4]), f32s(&[1], &[1.0])],
    )
    .unwrap_err();
    assert!(e.contains("-4"), "{e}");
    assert!(build("ScatterND", 18, 3, &[("reduction", s("avg"))]).is_err());
    let e = run(
        "ScatterElements",
        &[],
        vec![
            data.clone(),
            i64s(&[1, 1], &[0]),
            f32s(&[1, 2], &[1.0, 2.0]),
        ],
    )
    .unwrap_err();
    assert!(e.contains("updates shape"), "{e}");
    let e = run(
        "TensorScatter",
        &[("mode", s("linear"))],
        vec![
            f32s(&[2, 3, 1], &[0.0; 6]),
            f32s(&[2, 2, 1], &[1.0; 4]),
            i64s(&[2], &[0, 2]),
        ],
    )
    .unwrap_err();
    assert!(e.contains("out of range"), "{e}");
}

#[test]
fn gather_nd_checks_indices_and_batch_dims() {
    let data = f32s(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let out = run(
        "GatherND",
        &[],
        vec![data.clone(), i64s(&[2, 2], &[1, -1, 0, 0])],
    )
    .unwrap();
    assert_eq!(out[0].data, Buffer::F32(vec![4.0, 1.0]));
    assert!(run("GatherND", &[], vec![data.clone(), i64s(&[1, 2], &[2, 0])]).is_err());
    assert!(
        run(
            "GatherND",
            &[],
            vec![data.clone(), i64s(&[1, 3], &[0, 0, 0])]
        )
        .is_err()
    );
    let e = run(
        "GatherND",
        &[("batch_dims", Attribute::Int(1))],
        vec![data, i64s(&[3, 1], &[0, 0, 0])],
    );
    assert!(e.is_err());
}

#[test]
fn top_k_breaks_ties_by_lower_index_and_checks_k() {
    let x = i64s(&[6], &[3, 5, 3, 5, 1, 3]);
    let out = run("TopK", &[], vec![x.clone(), i64s(&[1], &[4])]).unwrap();
    assert_eq!(out[0].data, Buffer::I64(vec![5, 5, 3, 3]));
    assert_eq!(out[1].data, Buffer::I64(vec![1, 3, 0, 2]));
    let out = run(
        "TopK",
        &[("largest", Attribute::Int(0))],
        vec![x.clone(), i64s(&[1], &[3])],
    )
    .unwrap();
    assert_eq!(out[1].data, Buffer::I64(vec![4, 0, 2]));
    assert!(run("TopK", &[], vec![x.clone(), i64s(&[1], &[7])]).is_err());
    assert!(run("TopK", &[], vec![x, i64s(&[1], &[-1])]).is_err());
}

#[test]
fn unique_reports_first_indices_inverse_and_counts() {
    let x = f32s(&[5], &[2.0, 1.0, 2.0, 0.5, 1.0]);
    let out = run("Unique", &[("sorted", Attribute::Int(0))], vec![x]).unwrap();
    assert_eq!(out[0].data, Buffer::F32(vec![2.0, 1.0, 0.5]));
    assert_eq!(out[1].data, Buffer::I64(vec![0, 1, 3]));
    assert_eq!(out[2].data, Buffer::I64(vec![0, 1, 0, 2, 1]));
    assert_eq!(out[3].data, Buffer::I64(vec![2, 2, 1]));
}

#[test]
fn bad_attributes_and_inputs_are_errors() {
    assert!(build("BitShift", 11, 2, &[("direction", s("UP"))]).is_err());
    assert!(build("BitCast", 26, 1, &[("to", Attribute::Int(99))]).is_err());
    let e = run(
        "BitCast",
        &[("to", Attribute::Int(7))],
        vec![f32s(&[1], &[1.0])],
    )
    .unwrap_err();
    assert!(e.contains("width"), "{e}");
    assert!(build("Einsum", 12, 1, &[("equation", s("i.j->i"))]).is_err());
    assert!(
        run(
            "Einsum",
            &[("equation", s("ij->i"))],
            vec![f32s(&[3], &[1.0; 3])]
        )
        .is_err()
    );
    assert!(
        run(
            "Einsum",
            &[("equation", s("ij->k"))],
            vec![f32s(&[1, 1], &[1.0])]
        )
        .is_err()
    );
    assert!(
        build(
            "ReverseSequence",
            10,
            2,
            &[("batch_axis", Attribute::Int(2))]
        )
        .is_err()
    );
    let e = run(
        "ReverseSequence",
        &[],
        vec![f32s(&[2, 2], &[0.0; 4]), i64s(&[2], &[3, 1])],
    )
    .unwrap_err();
    assert!(e.contains("sequence_lens value 3"), "{e}");
    let e = run(
        "OneHot",
        &[],
        vec![
            i64s(&[1], &[0]),
            f32s(&[], &[-2.0]),
            f32s(&[2], &[0.0, 1.0]),
        ],
    )
    .unwrap_err();
    assert!(e.contains("depth"), "{e}");
    let e = run(
        "CumSum",
        &[],
        vec![f32s(&[2], &[1.0, 2.0]), f32s(&[], &[0.0])],
    )
    .unwrap_err();
    assert!(e.contains("axis"), "{e}");
    let unpool = [
        ("kernel_shape", Attribute::Ints(vec![2])),
        ("strides", Attribute::Ints(vec![2])),
    ];
    let e = run(
        "MaxUnpool",
        &unpool,
        vec![f32s(&[1, 1, 1], &[1.0]), i64s(&[1, 1, 1], &[5])],
    )
    .unwrap_err();
    assert!(e.contains("out of range"), "{e}");
    let e = run(
        "Col2Im",
        &[],
        vec![
            f32s(&[1, 4, 3], &[0.0; 12]),
            i64s(&[2], &[3, 3]),
            i64s(&[2], &[2, 2]),
        ],
    )
    .unwrap_err();
    assert!(e.contains("does not match"), "{e}");
    assert!(run("Det", &[], vec![f32s(&[2, 3], &[0.0; 6])]).is_err());
}

#[test]
fn det_and_cumulative_scans_match_closed_forms() {
    let out = run(
        "Det",
        &[],
        vec![f32s(&[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 1.0, 0.0])],
    )
    .unwrap();
    assert_eq!(out[0].data, Buffer::F32(vec![-2.0, -1.0]));
    let x = f32s(&[4], &[1.0, 2.0, 3.0, 4.0]);
    let ex = [
        ("exclusive", Attribute::Int(1)),
        ("reverse", Attribute::Int(1)),
    ];
    let out = run("CumSum", &ex, vec![x.clone(), i64s(&[], &[0])]).unwrap();
    assert_eq!(out[0].data, Buffer::F32(vec![9.0, 7.0, 4.0, 0.0]));
    let out = run("CumProd", &[], vec![x, i64s(&[], &[-1])]).unwrap();
    assert_eq!(out[0].data, Buffer::F32(vec![1.0, 2.0, 6.0, 24.0]));
}

#[test]
fn odd_inputs_give_errors_not_panics() {
    let pool = vec![
        f32s(&[], &[1.5]),
        f32s(&[0], &[]),
        f32s(&[2, 3], &[1.0, -2.0, 0.0, 4.0, 5.0, 6.0]),
        i64s(&[2], &[5, -9]),
        i64s(&[], &[1]),
        i64s(&[0, 2], &[]),
        i64s(&[2, 1], &[0, 1]),
        TensorData::new(vec![2], Buffer::Bool(vec![true, false])).unwrap(),
        TensorData::new(vec![3], Buffer::U8(vec![1, 2, 3])).unwrap(),
    ];
    let variants: Vec<Vec<(&str, Attribute)>> =
        [("ij,j", 0), ("ii->i", -1), ("...i,...i->...", 1), ("i", 2)]
            .into_iter()
            .map(|(eq, a)| {
                vec![
                    ("equation", s(eq)),
                    ("direction", s("LEFT")),
                    ("to", Attribute::Int(2)),
                    ("kernel_shape", Attribute::Ints(vec![2])),
                    ("axis", Attribute::Int(a)),
                    ("batch_dims", Attribute::Int(a.max(0))),
                ]
            })
            .collect();
    let m = pool.len();
    for ((op, _), attrs) in OPS
        .iter()
        .flat_map(|o| variants.iter().map(move |v| (o, v)))
    {
        for n in 1..=3usize {
            for combo in 0..m.pow(n as u32) {
                let ins: Vec<TensorData> = (0..n)
                    .map(|i| pool[(combo / m.pow(i as u32)) % m].clone())
                    .collect();
                let r = std::panic::catch_unwind(|| run(op, attrs, ins.clone()));
                assert!(
                    r.is_ok(),
                    "{op} panicked on {:?}",
                    ins.iter()
                        .map(|t| (&t.shape, t.dtype()))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}
