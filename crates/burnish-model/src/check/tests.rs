use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::{Buffer, ValueInfo};

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: &[(&str, Attribute)]) -> Node {
    Node {
        name: format!("{op}_0"),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        attrs: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn model(opset: i64, nodes: Vec<Node>, inits: Vec<(&str, TensorData)>, out: &str) -> Model {
    let vi = |n: &str| ValueInfo {
        name: n.into(),
        dtype: Some(DType::F32),
        shape: None,
    };
    Model {
        graph: Graph {
            name: "g".into(),
            inputs: vec![vi("x")],
            outputs: vec![vi(out)],
            initializers: inits
                .into_iter()
                .map(|(k, t)| (k.to_string(), Arc::new(t)))
                .collect(),
            nodes,
            value_info: Default::default(),
        },
        opsets: BTreeMap::from([(String::new(), opset)]),
        ir_version: 7,
        ..Default::default()
    }
}

fn weight_dq(opset: i64, axis: Option<i64>, scales: usize, zp: Buffer) -> Model {
    let mut attrs = Vec::new();
    if let Some(a) = axis {
        attrs.push(("axis", Attribute::Int(a)));
    }
    let sshape = if scales == 0 { vec![] } else { vec![scales] };
    let n = scales.max(1);
    model(
        opset,
        vec![
            node("DequantizeLinear", &["w", "s", "z"], &["wf"], &attrs),
            node("MatMul", &["x", "wf"], &["y"], &[]),
        ],
        vec![
            (
                "w",
                TensorData::new(vec![2, 3], Buffer::I8(vec![1; 6])).unwrap(),
            ),
            ("s", TensorData::from_f32(sshape.clone(), vec![0.5; n])),
            ("z", TensorData::new(sshape, zp).unwrap()),
        ],
        "y",
    )
}

fn messages(m: &Model) -> Vec<String> {
    check(m).iter().map(Issue::to_string).collect()
}

#[test]
fn per_axis_dequantize_needs_opset_13() {
    let bad = messages(&weight_dq(12, Some(1), 3, Buffer::I8(vec![0; 3])));
    assert!(
        bad.iter()
            .any(|m| m.contains("attribute `axis` is not allowed by DequantizeLinear-10")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|m| m.contains("per-axis quantization needs opset 13")),
        "{bad:?}"
    );
    assert_eq!(
        messages(&weight_dq(13, Some(1), 3, Buffer::I8(vec![0; 3]))),
        Vec::<String>::new()
    );
    assert_eq!(
        messages(&weight_dq(12, None, 0, Buffer::I8(vec![0]))),
        Vec::<String>::new()
    );
}

#[test]
fn scale_must_fit_the_axis_and_zero_point_types() {
    let bad = messages(&weight_dq(13, Some(0), 3, Buffer::I8(vec![0; 3])));
    assert!(
        bad.iter()
            .any(|m| m.contains("does not fit input [2, 3] along axis 0")),
        "{bad:?}"
    );
    let bad = messages(&weight_dq(13, Some(1), 3, Buffer::U8(vec![0; 3])));
    assert!(
        bad.iter()
            .any(|m| m.contains("input is int8 but its zero point is uint8")),
        "{bad:?}"
    );
    let bad = messages(&weight_dq(13, Some(1), 3, Buffer::I16(vec![0; 3])));
    assert!(
        bad.iter()
            .any(|m| m.contains("zero point is int16, not a quantized type of opset 13")),
        "{bad:?}"
    );
    assert_eq!(
        messages(&weight_dq(21, Some(1), 3, Buffer::I8(vec![0; 3]))),
        Vec::<String>::new()
    );
}

#[test]
fn ops_and_attributes_follow_the_opset() {
    let sq = |opset| {
        model(
            opset,
            vec![node(
                "Squeeze",
                &["x"],
                &["y"],
                &[("axes", Attribute::Ints(vec![0]))],
            )],
            vec![],
            "y",
        )
    };
    assert_eq!(messages(&sq(12)), Vec::<String>::new());
    let bad = messages(&sq(13));
    assert_eq!(
        bad,
        ["node `Squeeze_0` (Squeeze): attribute `axes` is not allowed by Squeeze-13 (opset 13)"]
    );
    let up = model(
        13,
        vec![node("Upsample", &["x", "x"], &["y"], &[])],
        vec![],
        "y",
    );
    assert!(messages(&up)[0].contains("deprecated since opset 10"));
    let gelu = model(19, vec![node("Gelu", &["x"], &["y"], &[])], vec![], "y");
    assert!(messages(&gelu)[0].contains("no such op at opset 19"));
    let concat = model(
        13,
        vec![node("Concat", &["x", "x"], &["y"], &[])],
        vec![],
        "y",
    );
    assert!(messages(&concat)[0].contains("required attribute `axis` is missing"));
    let kind = model(
        13,
        vec![node(
            "Flatten",
            &["x"],
            &["y"],
            &[("axis", Attribute::Float(1.0))],
        )],
        vec![],
        "y",
    );
    assert!(messages(&kind)[0].contains("attribute `axis` is a float"));
}

#[test]
fn values_are_defined_before_use() {
    let m = model(
        13,
        vec![
            node("Relu", &["t"], &["y"], &[]),
            node("Relu", &["x"], &["t"], &[]),
        ],
        vec![],
        "y",
    );
    assert!(messages(&m)[0].contains("input `t` is read before it is defined"));
    let m = model(13, vec![node("Relu", &["x"], &["t"], &[])], vec![], "y");
    assert!(messages(&m)[0].contains("output `y` is defined by no node"));
    let m = model(
        13,
        vec![
            node("Relu", &["x"], &["y"], &[]),
            node("Relu", &["x"], &["y"], &[]),
        ],
        vec![],
        "y",
    );
    assert!(messages(&m)[0].contains("output `y` is defined twice"));
}
