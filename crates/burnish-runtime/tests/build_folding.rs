//! A `Cast` of a constant (how `--quantize f16` stores weights) is computed once when the
//! session is built: no `Cast` step runs, and the `Conv` after it sees (and packs) a constant
//! float32 weight holding the half-precision values.

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::{Attribute, Buffer, DType, Graph, Model, Node, TensorData, ValueInfo};
use burnish_runtime::{Session, SessionOptions};
use half::f16;

fn info(name: &str) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: None,
    }
}

#[test]
fn casts_of_constants_fold_when_the_session_is_built() {
    let (oc, c, pixels) = (5usize, 3usize, 7usize);
    let w: Vec<f16> = (0..oc * c)
        .map(|i| f16::from_f32(0.1 + 0.37 * i as f32 - 0.013 * (i * i) as f32))
        .collect();
    let x: Vec<f32> = (0..c * pixels).map(|i| (i as f32 * 0.71).sin()).collect();
    let mut init = BTreeMap::new();
    init.insert(
        "w_f16".to_string(),
        Arc::new(TensorData::new(vec![oc, c, 1, 1], Buffer::F16(w.clone())).unwrap()),
    );
    let mut cast = BTreeMap::new();
    cast.insert("to".to_string(), Attribute::Int(1));
    let node = |name: &str, op: &str, inputs: &[&str], output: &str, attrs| Node {
        name: name.into(),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: vec![output.into()],
        attrs,
    };
    let model = Model {
        graph: Graph {
            name: "f16_weights".into(),
            inputs: vec![info("x")],
            outputs: vec![info("y")],
            initializers: init,
            nodes: vec![
                node("cast", "Cast", &["w_f16"], "w", cast),
                node("conv", "Conv", &["x", "w"], "y", BTreeMap::new()),
            ],
            value_info: Default::default(),
        },
        opsets: [(String::new(), 17)].into(),
        ir_version: 8,
        ..Default::default()
    };
    let session = Session::new(&model, SessionOptions::threads(Some(1))).unwrap();
    let inputs = session
        .prepare_inputs(&BTreeMap::from([(
            "x".to_string(),
            TensorData::new(vec![1, c, 1, pixels], Buffer::F32(x.clone())).unwrap(),
        )]))
        .unwrap();
    let (outs, timings) = session.run_profiled(inputs).unwrap();
    let ops: Vec<&str> = timings.iter().map(|t| t.op_type.as_str()).collect();
    assert_eq!(ops, ["Conv"]);
    let Buffer::F32(y) = outs[0].to_data().unwrap().data else {
        panic!("y is not float32");
    };
    for o in 0..oc {
        for p in 0..pixels {
            let want: f64 = (0..c)
                .map(|ci| f64::from(w[o * c + ci].to_f32()) * f64::from(x[ci * pixels + p]))
                .sum();
            let got = f64::from(y[o * pixels + p]);
            assert!(
                (got - want).abs() <= 1e-5,
                "y[{o}, {p}] = {got}, want {want}"
            );
        }
    }
}
