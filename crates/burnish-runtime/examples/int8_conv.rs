//! Int8 vs f32 convolution through the interpreter, on a ResNet-style 3x3 layer (64 -> 64
//! channels, 56 x 56, pad 1): a one-node `Conv` graph (Burn flex) against a one-node
//! `burnish::QConv` graph (u8 in, u8 out, per-channel i8 weights, on burnish-kernels).
//!
//! `cargo run --release -p burnish-runtime --example int8_conv [reps]` prints the best time of
//! each (interleaved, so both see the same machine load) and the ratio, for batch 1 and 8 on 1
//! and 2 threads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use burnish_model::{Attribute, Buffer, DType, Dim, Graph, Model, Node, TensorData, ValueInfo};
use burnish_runtime::{Session, SessionOptions};

const C: usize = 64;
const HW: usize = 56;

fn info(name: &str, dtype: DType) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(dtype),
        shape: Some(vec![
            Dim::Symbolic("batch".into()),
            Dim::Fixed(C),
            Dim::Fixed(HW),
            Dim::Fixed(HW),
        ]),
    }
}

fn tensor(shape: Vec<usize>, data: Buffer) -> Arc<TensorData> {
    Arc::new(TensorData::new(shape, data).expect("tensor"))
}

fn model(node: Node, dtype: DType, inits: Vec<(&str, Arc<TensorData>)>) -> Model {
    let mut opsets = BTreeMap::new();
    opsets.insert(String::new(), 17);
    opsets.insert("burnish".to_string(), 1);
    Model {
        graph: Graph {
            name: "conv".into(),
            inputs: vec![info("x", dtype)],
            outputs: vec![info("y", dtype)],
            initializers: inits.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            nodes: vec![node],
            ..Graph::default()
        },
        opsets,
        ir_version: 8,
        ..Model::default()
    }
}

fn node(op: &str, domain: &str, inputs: &[&str]) -> Node {
    let mut attrs = burnish_model::Attributes::new();
    attrs.insert("pads".into(), Attribute::Ints(vec![1; 4]));
    attrs.insert("kernel_shape".into(), Attribute::Ints(vec![3, 3]));
    Node {
        name: op.into(),
        op_type: op.into(),
        domain: domain.into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: vec!["y".into()],
        attrs,
    }
}

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let wn = C * C * 9;
    let wf: Vec<f32> = (0..wn)
        .map(|i| ((i * 37 % 255) as f32 - 127.0) / 1270.0)
        .collect();
    let wq: Vec<i8> = (0..wn)
        .map(|i| ((i * 37 % 255) as i32 - 127) as i8)
        .collect();
    let f32_model = model(
        node("Conv", "", &["x", "w", "b"]),
        DType::F32,
        vec![
            ("w", tensor(vec![C, C, 3, 3], Buffer::F32(wf))),
            ("b", tensor(vec![C], Buffer::F32(vec![0.1; C]))),
        ],
    );
    let q_model = model(
        node(
            "QConv",
            "burnish",
            &["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"],
        ),
        DType::U8,
        vec![
            ("xs", tensor(vec![], Buffer::F32(vec![0.02]))),
            ("xz", tensor(vec![], Buffer::U8(vec![128]))),
            ("w", tensor(vec![C, C, 3, 3], Buffer::I8(wq))),
            ("ws", tensor(vec![C], Buffer::F32(vec![0.001; C]))),
            ("wz", tensor(vec![C], Buffer::I8(vec![0; C]))),
            ("ys", tensor(vec![], Buffer::F32(vec![0.05]))),
            ("yz", tensor(vec![], Buffer::U8(vec![128]))),
            ("b", tensor(vec![C], Buffer::I32(vec![100; C]))),
        ],
    );
    println!("ResNet-style 3x3 conv {C}->{C}, {HW}x{HW}, pad 1; best of {reps}");
    for threads in [1, 2] {
        let opts = SessionOptions::threads(Some(threads));
        let sf = Session::new(&f32_model, opts.clone()).expect("f32 session");
        let sq = Session::new(&q_model, opts).expect("int8 session");
        for batch in [1usize, 8] {
            let n = batch * C * HW * HW;
            let mut inf = BTreeMap::new();
            inf.insert(
                "x".to_string(),
                TensorData::new(
                    vec![batch, C, HW, HW],
                    Buffer::F32((0..n).map(|i| (i % 97) as f32 / 50.0 - 1.0).collect()),
                )
                .expect("x"),
            );
            let mut inq = BTreeMap::new();
            inq.insert(
                "x".to_string(),
                TensorData::new(
                    vec![batch, C, HW, HW],
                    Buffer::U8((0..n).map(|i| (i % 251) as u8).collect()),
                )
                .expect("x"),
            );
            let vf = sf.prepare_inputs(&inf).expect("inputs");
            let vq = sq.prepare_inputs(&inq).expect("inputs");
            let (mut best_f, mut best_q) = (f64::MAX, f64::MAX);
            for _ in 0..reps {
                let t = Instant::now();
                sf.run_values(vf.clone()).expect("f32 run");
                best_f = best_f.min(t.elapsed().as_secs_f64());
                let t = Instant::now();
                sq.run_values(vq.clone()).expect("int8 run");
                best_q = best_q.min(t.elapsed().as_secs_f64());
            }
            let gmac = (batch * C * C * 9 * HW * HW) as f64 / 1e9;
            println!(
                "threads {threads} batch {batch}: f32 {:.2} ms ({:.1} GMAC/s), int8 {:.2} ms ({:.1} GMAC/s), int8 speedup {:.2}x",
                best_f * 1e3,
                gmac / best_f,
                best_q * 1e3,
                gmac / best_q,
                best_f / best_q
            );
        }
    }
}
