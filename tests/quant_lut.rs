//! `DequantizeLinear -> elementwise float chain -> QuantizeLinear` lowered to `burnish::QLut`:
//! SiLU (`x * Sigmoid(x)`) and HardSwish as exported (`Add/Clip/Div/Mul`), u8 and i8 codes,
//! against the float QDQ graph run by the runtime and against a closed form in f64 (at most one
//! output code apart); and chains that must stay in float (a value read outside the chain).

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_model::{Buffer, DType, Graph, Model, Node, TensorData, ValueInfo, domain};
use burnish_quant::lower_qdq;
use burnish_runtime::{Session, SessionOptions};

const S1: f32 = 0.05;
const S2: f32 = 0.03;

fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str]) -> Node {
    Node {
        name: name.into(),
        op_type: op.into(),
        domain: String::new(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        attrs: Default::default(),
    }
}

fn scalar(v: f32) -> Arc<TensorData> {
    Arc::new(TensorData::from_f32(vec![], vec![v]))
}

fn zero_point(signed: bool, v: i32) -> Arc<TensorData> {
    Arc::new(TensorData {
        shape: vec![],
        data: if signed {
            Buffer::I8(vec![v as i8])
        } else {
            Buffer::U8(vec![v as u8])
        },
    })
}

/// `x -> Q(S1, z1) -> DQ -> chain -> Q(S2, z2) -> DQ -> y`; `extra_output` also exposes the
/// chain's first value.
fn qdq_model(chain: &[Node], last: &str, signed: bool, extra_output: Option<&str>) -> Model {
    let (z1, z2) = if signed { (-3, -20) } else { (120, 15) };
    let mut nodes = vec![
        node("q1", "QuantizeLinear", &["x", "s1", "z1"], &["xq"]),
        node("dq1", "DequantizeLinear", &["xq", "s1", "z1"], &["xf"]),
    ];
    nodes.extend_from_slice(chain);
    nodes.push(node("q2", "QuantizeLinear", &[last, "s2", "z2"], &["yq"]));
    nodes.push(node("dq2", "DequantizeLinear", &["yq", "s2", "z2"], &["y"]));
    let initializers = BTreeMap::from([
        ("s1".to_string(), scalar(S1)),
        ("s2".to_string(), scalar(S2)),
        ("z1".to_string(), zero_point(signed, z1)),
        ("z2".to_string(), zero_point(signed, z2)),
        ("three".to_string(), scalar(3.0)),
        ("six".to_string(), scalar(6.0)),
        ("zero".to_string(), scalar(0.0)),
    ]);
    let out = |n: &str| ValueInfo {
        name: n.into(),
        dtype: Some(DType::F32),
        shape: None,
    };
    let mut outputs = vec![out("y")];
    outputs.extend(extra_output.map(out));
    Model {
        graph: Graph {
            name: "lut".into(),
            inputs: vec![ValueInfo {
                name: "x".into(),
                dtype: Some(DType::F32),
                shape: None,
            }],
            outputs,
            initializers,
            nodes,
            ..Graph::default()
        },
        opsets: BTreeMap::from([(String::new(), 14)]),
        ir_version: 8,
        ..Model::default()
    }
}

fn silu() -> Vec<Node> {
    vec![
        node("sig", "Sigmoid", &["xf"], &["s"]),
        node("mul", "Mul", &["xf", "s"], &["silu"]),
    ]
}

fn hardswish() -> Vec<Node> {
    vec![
        node("add", "Add", &["xf", "three"], &["a"]),
        node("clip", "Clip", &["a", "zero", "six"], &["c"]),
        node("div", "Div", &["c", "six"], &["d"]),
        node("mul", "Mul", &["xf", "d"], &["hs"]),
    ]
}

fn run(model: &Model, x: &[f32]) -> BTreeMap<String, TensorData> {
    let inputs = BTreeMap::from([(
        "x".to_string(),
        TensorData::from_f32(vec![1, x.len()], x.to_vec()),
    )]);
    Session::new(model, SessionOptions::threads(Some(1)))
        .unwrap()
        .run(&inputs)
        .unwrap()
}

/// Inputs covering every input code (and beyond, saturating).
fn sweep() -> Vec<f32> {
    (-1400..1400).map(|i| i as f32 * 0.01).collect()
}

/// `Q(f(DQ(Q(x))))` in f64, dequantized: the closed form of the QDQ graph.
fn closed_form(x: f32, f: fn(f64) -> f64, signed: bool) -> f64 {
    let ((lo, hi), (z1, z2)) = if signed {
        ((-128.0, 127.0), (-3.0, -20.0))
    } else {
        ((0.0, 255.0), (120.0, 15.0))
    };
    let q = |v: f64, s: f32, z: f64| ((v / f64::from(s)).round_ties_even() + z).clamp(lo, hi);
    let xf = (q(f64::from(x), S1, z1) - z1) * f64::from(S1);
    (q(f(xf), S2, z2) - z2) * f64::from(S2)
}

fn silu_f64(v: f64) -> f64 {
    v / (1.0 + (-v).exp())
}

fn hardswish_f64(v: f64) -> f64 {
    v * (v + 3.0).clamp(0.0, 6.0) / 6.0
}

/// `(name, chain, its last value, the chain's closed form)`.
type Case = (
    &'static str,
    fn() -> Vec<Node>,
    &'static str,
    fn(f64) -> f64,
);

#[test]
fn activation_chains_become_lookup_tables_that_match_the_float_graph() {
    let cases: [Case; 2] = [
        ("silu", silu, "silu", silu_f64),
        ("hardswish", hardswish, "hs", hardswish_f64),
    ];
    let x = sweep();
    for (name, chain, last, f) in cases {
        for signed in [false, true] {
            let float = qdq_model(&chain(), last, signed, None);
            let mut lowered = float.clone();
            let rec = lower_qdq(&mut lowered).unwrap();
            assert_eq!(rec.lookup_tables, 1, "{name} signed={signed}");
            let ops = lowered.graph.op_histogram();
            assert_eq!(
                ops.get(&format!("{}::{}", domain::DOMAIN, domain::QLUT))
                    .or(ops.get(domain::QLUT)),
                Some(&1),
                "{name}: {ops:?}"
            );
            assert!(
                !ops.contains_key("Mul") && !ops.contains_key("Sigmoid"),
                "{ops:?}"
            );
            let want = run(&float, &x)["y"].to_f64_vec().unwrap();
            let got = run(&lowered, &x)["y"].to_f64_vec().unwrap();
            let mut differ = 0;
            for ((&xi, &w), &g) in x.iter().zip(&want).zip(&got) {
                let exact = closed_form(xi, f, signed);
                assert!(
                    (g - exact).abs() <= f64::from(S2) * 1.001,
                    "{name} x={xi}: {g} vs {exact}"
                );
                assert!(
                    (g - w).abs() <= f64::from(S2) * 1.001,
                    "{name} x={xi}: {g} vs {w}"
                );
                differ += usize::from(g != w);
            }
            assert!(
                differ <= x.len() / 100,
                "{name}: {differ} outputs off the float graph"
            );
        }
    }
}

#[test]
fn chains_read_outside_stay_in_float() {
    // The Sigmoid's output is also a graph output: the chain cannot be replaced.
    let mut model = qdq_model(&silu(), "silu", false, Some("s"));
    let rec = lower_qdq(&mut model).unwrap();
    assert_eq!(rec.lookup_tables, 0);
    assert!(model.graph.op_histogram().contains_key("Sigmoid"));
}

/// `x -> Q(S1) -> DQ`, `w -> Q(S2) -> DQ`, `Concat -> MaxPool -> Q(s3) -> DQ -> y` (and `y2`
/// reading the Concat too when `shared`).
fn concat_model(s3: f32, shared: bool) -> Model {
    let mut m = qdq_model(&[], "xf", false, None);
    let g = &mut m.graph;
    g.nodes.truncate(2);
    g.nodes.extend([
        node("qb", "QuantizeLinear", &["w", "s2", "z2"], &["wq"]),
        node("dqb", "DequantizeLinear", &["wq", "s2", "z2"], &["wf"]),
        {
            let mut n = node("cat", "Concat", &["xf", "wf"], &["c"]);
            n.attrs
                .insert("axis".into(), burnish_model::Attribute::Int(1));
            n
        },
        {
            let mut n = node("pool", "MaxPool", &["c"], &["p"]);
            n.attrs.insert(
                "kernel_shape".into(),
                burnish_model::Attribute::Ints(vec![2]),
            );
            n
        },
        node("q3", "QuantizeLinear", &["p", "s3", "z3"], &["pq"]),
        node("dq3", "DequantizeLinear", &["pq", "s3", "z3"], &["y"]),
    ]);
    g.initializers.insert("s3".into(), scalar(s3));
    // The second input's parameters exactly when s3 is its scale.
    g.initializers.insert(
        "z3".into(),
        zero_point(false, if s3 == S2 { 15 } else { 90 }),
    );
    g.inputs.push(ValueInfo {
        name: "w".into(),
        dtype: Some(DType::F32),
        shape: None,
    });
    if shared {
        g.nodes.push(node("neg", "Neg", &["c"], &["y2"]));
        g.outputs.push(ValueInfo {
            name: "y2".into(),
            dtype: Some(DType::F32),
            shape: None,
        });
    }
    m
}

#[test]
fn concat_of_dequantized_inputs_runs_on_codes_exactly() {
    let x: Vec<f32> = (0..64).map(|i| (i as f32 - 20.0) * 0.07).collect();
    let w: Vec<f32> = (0..64)
        .map(|i| (i as f32 * 37.0 % 64.0 - 30.0) * 0.05)
        .collect();
    let inputs = BTreeMap::from([
        ("x".to_string(), TensorData::from_f32(vec![1, 1, 64], x)),
        ("w".to_string(), TensorData::from_f32(vec![1, 1, 64], w)),
    ]);
    // s3 = S2: one input keeps its codes, the other goes through a table.
    for s3 in [0.04f32, S2] {
        let float = concat_model(s3, false);
        let mut lowered = float.clone();
        let rec = lower_qdq(&mut lowered).unwrap();
        assert_eq!(rec.concats_on_codes, 1, "{rec:?}");
        let ops = lowered.graph.op_histogram();
        assert!(
            !ops.contains_key("QuantizeLinear") || ops["QuantizeLinear"] == 2,
            "{ops:?}"
        );
        let lut = format!("{}::{}", domain::DOMAIN, domain::QLUT);
        let tables = ops.get(&lut).copied().unwrap_or(0);
        assert_eq!(tables, if s3 == S2 { 1 } else { 2 }, "{ops:?}");
        let run = |m: &Model| {
            Session::new(m, SessionOptions::threads(Some(1)))
                .unwrap()
                .run(&inputs)
                .unwrap()["y"]
                .to_f64_vec()
                .unwrap()
        };
        assert_eq!(run(&lowered), run(&float), "s3 {s3}");
    }
    let mut shared = concat_model(0.04, true);
    assert_eq!(lower_qdq(&mut shared).unwrap().concats_on_codes, 0);
}

#[test]
fn onnxruntime_silu_layout_becomes_a_table_and_a_pair_table() {
    // x * Q(Sigmoid(x)): the dequantized x feeds the Sigmoid chain (a QLut) and the Mul of two
    // dequantized values (a QLut2), which then reads x and a table of x: one table in the end.
    let chain = vec![
        node("sig", "Sigmoid", &["xf"], &["s"]),
        node("qs", "QuantizeLinear", &["s", "s4", "z4"], &["sq"]),
        node("dqs", "DequantizeLinear", &["sq", "s4", "z4"], &["sf"]),
        node("mul", "Mul", &["xf", "sf"], &["m"]),
    ];
    let mut float = qdq_model(&chain, "m", false, None);
    float
        .graph
        .initializers
        .insert("s4".into(), scalar(1.0 / 255.0));
    float
        .graph
        .initializers
        .insert("z4".into(), zero_point(false, 0));
    let mut lowered = float.clone();
    let rec = lower_qdq(&mut lowered).unwrap();
    assert_eq!((rec.lookup_tables, rec.binary_tables), (1, 1), "{rec:?}");
    let ops = lowered.graph.op_histogram();
    // The pair table reads x and a table of x: it folds into one table of x.
    let lut = format!("{}::{}", domain::DOMAIN, domain::QLUT);
    assert_eq!(ops.get(&lut), Some(&1), "{ops:?}");
    assert!(
        !ops.contains_key("Sigmoid") && !ops.contains_key("Mul"),
        "{ops:?}"
    );
    let x = sweep();
    let want = run(&float, &x)["y"].to_f64_vec().unwrap();
    let got = run(&lowered, &x)["y"].to_f64_vec().unwrap();
    for (w, g) in want.iter().zip(&got) {
        assert!((w - g).abs() <= f64::from(S2) * 1.001, "{g} vs {w}");
    }
}

#[test]
fn binary_tables_broadcast_like_the_op() {
    // Add of x [1, 1, 64] and w [1, 1, 1], both dequantized, requantized after; the fixed
    // input first and second (the table's row is read by either code).
    for order in [["xf", "wf"], ["wf", "xf"]] {
        binary_table_broadcasts(order);
    }
}

fn binary_table_broadcasts(order: [&str; 2]) {
    let mut m = concat_model(0.04, false);
    let g = &mut m.graph;
    let cat = g.nodes.iter().position(|n| n.name == "cat").unwrap();
    g.nodes[cat] = node("add", "Add", &order, &["c"]);
    let pool = g.nodes.iter().position(|n| n.name == "pool").unwrap();
    g.nodes.remove(pool);
    let q3 = g.nodes.iter().position(|n| n.name == "q3").unwrap();
    g.nodes[q3].inputs[0] = "c".into();
    let mut lowered = m.clone();
    let rec = lower_qdq(&mut lowered).unwrap();
    assert_eq!(rec.binary_tables, 1, "{rec:?}");
    let x: Vec<f32> = (0..64).map(|i| (i as f32 - 20.0) * 0.07).collect();
    for w in [-0.9f32, 0.0, 1.3] {
        let inputs = BTreeMap::from([
            (
                "x".to_string(),
                TensorData::from_f32(vec![1, 1, 64], x.clone()),
            ),
            (
                "w".to_string(),
                TensorData::from_f32(vec![1, 1, 1], vec![w]),
            ),
        ]);
        let run = |m: &Model| {
            let out = Session::new(m, SessionOptions::threads(Some(1)))
                .unwrap()
                .run(&inputs)
                .unwrap();
            (out["y"].shape.clone(), out["y"].to_f64_vec().unwrap())
        };
        // A session lowers QDQ itself, so the reference is the closed form of the QDQ graph.
        let ((ws, _), (gs, got)) = (run(&m), run(&lowered));
        assert_eq!(ws, gs);
        let q =
            |v: f64, s: f32, z: f64| ((v / f64::from(s)).round_ties_even() + z).clamp(0.0, 255.0);
        let dq = |v: f32, s: f32, z: f64| (q(v.into(), s, z) - z) * f64::from(s);
        let want = x
            .iter()
            .map(|&v| (q(dq(v, S1, 120.0) + dq(w, S2, 15.0), 0.04, 90.0) - 90.0) * 0.04);
        for (a, b) in want.zip(&got) {
            assert!((a - b).abs() <= 0.04 * 1.001, "{order:?} w {w}: {b} vs {a}");
        }
    }
}
