//! Error paths of this family's ops: bad attributes fail at build, bad shapes and indices at
//! run, always as `Err`, never a panic.

use burnish_model::{Attribute, Attributes, Buffer, Node, TensorData};

use crate::ops::{BuildCtx, Inputs, Op};
use crate::value::Value;

fn node(op: &str, attrs: &[(&str, Attribute)], outputs: usize) -> Node {
    Node {
        name: format!("{op}_0"),
        op_type: op.into(),
        domain: String::new(),
        inputs: Vec::new(),
        outputs: (0..outputs).map(|i| format!("y{i}")).collect(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Attributes>(),
    }
}

fn build(op: &str, attrs: &[(&str, Attribute)], opset: i64) -> Result<Box<dyn Op>, String> {
    let n = node(op, attrs, 4);
    let b = crate::ops::builder("", op).expect("registered");
    b(&BuildCtx::with_consts(&n, opset, Vec::new()))
}

fn f32s(shape: &[usize]) -> Option<Value> {
    let n = shape.iter().product::<usize>();
    let data = Buffer::F32((0..n).map(|i| (i % 7) as f32 * 0.25 - 0.5).collect());
    Some(Value::from_data(&TensorData::new(shape.to_vec(), data).unwrap()).unwrap())
}

fn i64s(shape: &[usize], v: Vec<i64>) -> Option<Value> {
    Some(Value::from_data(&TensorData::new(shape.to_vec(), Buffer::I64(v)).unwrap()).unwrap())
}

fn run(op: &dyn Op, inputs: Vec<Option<Value>>) -> Result<Vec<Value>, String> {
    op.run(Inputs::new(inputs))
}

fn int(v: i64) -> Attribute {
    Attribute::Int(v)
}

#[test]
fn attention_rejects_bad_attributes_and_shapes() {
    assert!(build("Attention", &[("qk_matmul_output_mode", int(4))], 23).is_err());
    assert!(build("Attention", &[("q_num_heads", int(0))], 23).is_err());
    let op = build("Attention", &[], 23).unwrap();
    let err = run(
        &*op,
        vec![f32s(&[1, 2, 8]), f32s(&[1, 3, 8]), f32s(&[1, 3, 8])],
    );
    assert!(err.unwrap_err().contains("q_num_heads"));
    let err = run(
        &*op,
        vec![
            f32s(&[1, 3, 2, 4]),
            f32s(&[1, 2, 3, 4]),
            f32s(&[1, 2, 3, 4]),
        ],
    );
    assert!(err.unwrap_err().contains("multiple"));
    let err = run(
        &*op,
        vec![
            f32s(&[1, 2, 2, 4]),
            f32s(&[1, 2, 3, 5]),
            f32s(&[1, 2, 3, 4]),
        ],
    );
    assert!(err.is_err());
    let mask = f32s(&[3, 2, 3]);
    let err = run(
        &*op,
        vec![
            f32s(&[1, 2, 2, 4]),
            f32s(&[1, 2, 3, 4]),
            f32s(&[1, 2, 3, 4]),
            mask,
        ],
    );
    assert!(err.unwrap_err().contains("attn_mask"));
    let wide = f32s(&[2, 5]);
    let err = run(
        &*op,
        vec![
            f32s(&[1, 2, 2, 4]),
            f32s(&[1, 2, 3, 4]),
            f32s(&[1, 2, 3, 4]),
            wide,
        ],
    );
    assert!(err.is_err());
    let past = f32s(&[1, 2, 4, 3]);
    let err = run(
        &*op,
        vec![
            f32s(&[1, 2, 2, 4]),
            f32s(&[1, 2, 3, 4]),
            f32s(&[1, 2, 3, 4]),
            None,
            past,
        ],
    );
    assert!(err.unwrap_err().contains("past_key"));
}

#[test]
fn attention_masks_causally_after_the_past() {
    let op = build("Attention", &[("is_causal", int(1))], 23).unwrap();
    let (q, k, v) = (
        f32s(&[1, 1, 2, 4]),
        f32s(&[1, 1, 1, 4]),
        f32s(&[1, 1, 1, 2]),
    );
    let (pk, pv) = (f32s(&[1, 1, 2, 4]), f32s(&[1, 1, 2, 2]));
    let outs = run(&*op, vec![q, k, v, None, pk, pv]).unwrap();
    assert_eq!(outs[0].shape(), [1, 1, 2, 2]);
    assert_eq!(outs[1].shape(), [1, 1, 3, 4]);
    assert!(outs[0].to_f64_vec().unwrap().iter().all(|x| x.is_finite()));
}

#[test]
fn rotary_embedding_checks_positions_and_dims() {
    assert!(build("RotaryEmbedding", &[("num_heads", int(-1))], 23).is_err());
    let op = build("RotaryEmbedding", &[], 23).unwrap();
    let cache = || f32s(&[4, 2]);
    let bad_pos = i64s(&[1, 2], vec![0, 4]);
    let err = run(&*op, vec![f32s(&[1, 1, 2, 4]), cache(), cache(), bad_pos]);
    assert!(err.unwrap_err().contains("out of range"));
    let neg = i64s(&[1, 2], vec![-1, 0]);
    assert!(run(&*op, vec![f32s(&[1, 1, 2, 4]), cache(), cache(), neg]).is_err());
    let odd = build("RotaryEmbedding", &[("rotary_embedding_dim", int(3))], 23).unwrap();
    let pos = i64s(&[1, 2], vec![0, 1]);
    assert!(run(&*odd, vec![f32s(&[1, 1, 2, 4]), cache(), cache(), pos]).is_err());
    let three_d = run(&*op, vec![f32s(&[1, 2, 8]), cache(), cache(), None]);
    assert!(three_d.is_err());
}

#[test]
fn normalizations_reject_bad_attributes_and_shapes() {
    assert!(build("GroupNormalization", &[("num_groups", int(0))], 21).is_err());
    let gn = build("GroupNormalization", &[("num_groups", int(3))], 21).unwrap();
    assert!(run(&*gn, vec![f32s(&[1, 4, 2]), f32s(&[4]), f32s(&[4])]).is_err());
    let gn18 = build("GroupNormalization", &[("num_groups", int(2))], 18).unwrap();
    assert!(run(&*gn18, vec![f32s(&[1, 4, 2]), f32s(&[4]), f32s(&[4])]).is_err());
    assert!(run(&*gn18, vec![f32s(&[1, 4, 2]), f32s(&[2]), f32s(&[2])]).is_ok());
    assert!(build("LpNormalization", &[("p", int(3))], 22).is_err());
    let lp = build("LpNormalization", &[("axis", int(2))], 22).unwrap();
    assert!(run(&*lp, vec![f32s(&[2, 2])]).is_err());
    assert!(build("LRN", &[("size", int(0))], 13).is_err());
    let lrn = build("LRN", &[("size", int(3))], 13).unwrap();
    assert!(run(&*lrn, vec![f32s(&[4])]).is_err());
    let rms = build("RMSNormalization", &[("axis", int(-3))], 23).unwrap();
    assert!(run(&*rms, vec![f32s(&[2, 3]), f32s(&[3])]).is_err());
    let rms = build("RMSNormalization", &[], 23).unwrap();
    assert!(run(&*rms, vec![f32s(&[2, 3]), f32s(&[4])]).is_err());
    let mvn = build("MeanVarianceNormalization", &[], 13).unwrap();
    assert!(run(&*mvn, vec![f32s(&[2, 3])]).is_err());
}

#[test]
fn stateful_ops_reject_bad_attributes_and_shapes() {
    let heads = [("q_num_heads", int(2)), ("kv_num_heads", int(2))];
    assert!(build("LinearAttention", &heads[..1], 27).is_err());
    let bad_rule = [
        heads[0].clone(),
        heads[1].clone(),
        ("update_rule", Attribute::String("x".into())),
    ];
    assert!(build("LinearAttention", &bad_rule, 27).is_err());
    let la = build("LinearAttention", &heads, 27).unwrap();
    let qkv = || f32s(&[1, 3, 8]);
    let err = run(&*la, vec![qkv(), qkv(), qkv()]);
    assert!(err.unwrap_err().contains("decay"));
    let err = run(
        &*la,
        vec![
            qkv(),
            qkv(),
            qkv(),
            f32s(&[1, 2, 3, 4]),
            qkv(),
            f32s(&[1, 3, 2]),
        ],
    );
    assert!(err.unwrap_err().contains("past_state"));
    let err = run(
        &*la,
        vec![
            qkv(),
            qkv(),
            qkv(),
            None,
            f32s(&[1, 3, 5]),
            f32s(&[1, 3, 2]),
        ],
    );
    assert!(err.unwrap_err().contains("decay"));
    let act = [("activation", Attribute::String("relu".into()))];
    assert!(build("CausalConvWithState", &act, 27).is_err());
    let cc = build("CausalConvWithState", &[], 27).unwrap();
    assert!(run(&*cc, vec![f32s(&[1, 2, 5]), f32s(&[3, 1, 2])]).is_err());
    assert!(run(&*cc, vec![f32s(&[1, 2, 5]), f32s(&[2, 1, 0])]).is_err());
    let past = f32s(&[1, 2, 2]);
    assert!(run(&*cc, vec![f32s(&[1, 2, 5]), f32s(&[2, 1, 2]), None, past]).is_err());
    let outs = run(&*cc, vec![f32s(&[1, 2, 5]), f32s(&[2, 1, 1])]).unwrap();
    assert_eq!(outs[1].shape(), [1, 2, 0]);
}

#[test]
fn group_norm_before_opset_21_scales_per_group() {
    let x: Vec<f32> = (0..8).map(|i| (i as f32).powf(1.5)).collect();
    let x = Value::from_data(&TensorData::new(vec![1, 4, 2], Buffer::F32(x)).unwrap()).unwrap();
    let vec2 = |a: f32, b: f32| {
        Some(Value::from_data(&TensorData::new(vec![2], Buffer::F32(vec![a, b])).unwrap()).unwrap())
    };
    let op = build("GroupNormalization", &[("num_groups", int(2))], 18).unwrap();
    let y = run(&*op, vec![Some(x), vec2(2.0, -1.0), vec2(0.5, 0.25)]).unwrap();
    let want = [
        -1.782_015_5,
        -0.770_548_75,
        1.078_844_4,
        3.473_719_8,
        1.549_184_5,
        0.738_920_4,
        -0.157_013_36,
        -1.131_091_6,
    ];
    for (got, want) in y[0].to_f64_vec().unwrap().iter().zip(want) {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}

#[test]
fn flex_attention_rejects_bad_modifiers_and_shapes() {
    let b = crate::ops::builder("ai.onnx.preview", "FlexAttention").expect("registered");
    let bad = node("FlexAttention", &[("score_mod", int(1))], 1);
    let ctx = |n| BuildCtx::with_consts(n, 26, Vec::new());
    assert!(b(&ctx(&bad)).is_err());
    let plain = node("FlexAttention", &[], 1);
    let op = b(&ctx(&plain)).unwrap();
    assert!(
        run(
            &*op,
            vec![f32s(&[1, 2, 8]), f32s(&[1, 2, 8]), f32s(&[1, 2, 8])]
        )
        .is_err()
    );
    let err = run(
        &*op,
        vec![
            f32s(&[1, 3, 2, 4]),
            f32s(&[1, 2, 2, 4]),
            f32s(&[1, 2, 2, 4]),
        ],
    );
    assert!(err.unwrap_err().contains("multiple"));
    let y = run(
        &*op,
        vec![
            f32s(&[1, 4, 2, 4]),
            f32s(&[1, 2, 3, 4]),
            f32s(&[1, 2, 3, 5]),
        ],
    );
    assert_eq!(y.unwrap()[0].shape(), [1, 4, 2, 5]);
}
