//! Conv chains (`Conv` -> `BatchNormalization` -> residual `Add` -> `Relu`/`Clip`, run as one
//! kernel call) give the results the nodes give one by one: every committed conv fixture and
//! a set of built graphs (Clip bounds as inputs, broadcast residuals, depthwise, 1-D, a conv
//! whose output is also a graph output) run with chains on and off and must agree exactly.
//! The one-by-one results themselves are checked against onnxruntime in `tests/fixtures.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use burnish_model::{
    Attribute, Buffer, DType, Graph, Model, Node, TensorData, ValueInfo, load_onnx, read_tensors,
};
use burnish_runtime::{Session, SessionOptions};
use burnish_stats::Rng;

fn options(threads: usize, conv_chains: bool) -> SessionOptions {
    SessionOptions {
        threads: Some(threads),
        conv_chains,
        ..SessionOptions::default()
    }
}

/// Runs `model` with chains off and on; returns the op types of the fused run's steps.
fn assert_same(label: &str, model: &Model, feeds: &BTreeMap<String, TensorData>) -> Vec<String> {
    let mut fused_ops = Vec::new();
    for threads in [1, 2] {
        let plain = Session::new(model, options(threads, false)).expect("session");
        let fused = Session::new(model, options(threads, true)).expect("session");
        let want = plain.run(feeds).expect("unfused run");
        let got = fused.run(feeds).expect("fused run");
        for (name, w) in &want {
            let (w, g) = (
                w.to_f64_vec().expect("float"),
                got[name].to_f64_vec().expect("float"),
            );
            assert_eq!(w.len(), g.len(), "{label}/{name}: length");
            let differ = w.iter().zip(&g).filter(|(a, b)| a != b).count();
            assert_eq!(
                differ, 0,
                "{label}/{name} ({threads} threads): {differ} values differ"
            );
        }
        let values = fused.prepare_inputs(feeds).expect("inputs");
        let (_, timings) = fused.run_profiled(values).expect("profiled run");
        fused_ops = timings.into_iter().map(|t| t.op_type).collect();
    }
    fused_ops
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models")
}

#[test]
fn conv_fixtures_are_unchanged_by_chains() {
    for (name, chained) in [
        ("resnet_nchw", 11),
        ("resnet", 8),
        ("mobilenet", 11),
        ("digits_cnn", 2),
        ("nhwc_tf", 3),
    ] {
        let dir = fixtures();
        let model = load_onnx(dir.join(format!("{name}.onnx"))).expect("fixture");
        let feeds = read_tensors(dir.join(format!("{name}.inputs.npz"))).expect("inputs");
        let ops = assert_same(name, &model, &feeds);
        let chains = ops.iter().filter(|op| op.starts_with("Conv+")).count();
        eprintln!("{name}: {chains} chains: {ops:?}");
        assert_eq!(chains, chained, "{name}: chains formed");
    }
}

/// Seeded uniform vectors.
trait Uniform {
    fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32>;
}

impl Uniform for Rng {
    fn vec(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.uniform_f32(lo, hi)).collect()
    }
}

/// A graph under construction: initializers, nodes, graph inputs and outputs.
#[derive(Default)]
struct Builder {
    init: BTreeMap<String, Arc<TensorData>>,
    nodes: Vec<Node>,
    inputs: Vec<ValueInfo>,
    outputs: Vec<ValueInfo>,
    feeds: BTreeMap<String, TensorData>,
}

fn info(name: &str) -> ValueInfo {
    ValueInfo {
        name: name.into(),
        dtype: Some(DType::F32),
        shape: None,
    }
}

impl Builder {
    fn constant(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        let t = TensorData::new(shape, Buffer::F32(data)).expect("tensor");
        self.init.insert(name.into(), Arc::new(t));
    }

    fn input(&mut self, name: &str, shape: Vec<usize>, data: Vec<f32>) {
        self.inputs.push(info(name));
        let t = TensorData::new(shape, Buffer::F32(data)).expect("tensor");
        self.feeds.insert(name.into(), t);
    }

    fn node(&mut self, op: &str, inputs: &[&str], output: &str, attrs: Vec<(&str, Attribute)>) {
        self.nodes.push(Node {
            name: format!("{op}_{}", self.nodes.len()),
            op_type: op.into(),
            domain: String::new(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.into()],
            attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        });
    }

    /// `Conv(x, w, b)` over `spatial` dims with a `k`-wide kernel, padding 1.
    fn conv(&mut self, rng: &mut Rng, x: (&str, usize), oc: usize, k: usize, group: usize) {
        self.conv_inputs(rng, x, oc, k, group, true);
    }

    fn conv_inputs(
        &mut self,
        rng: &mut Rng,
        x: (&str, usize),
        oc: usize,
        k: usize,
        group: usize,
        bias: bool,
    ) {
        let spatial = if self.feeds[x.0].shape.len() == 3 {
            1
        } else {
            2
        };
        let mut wshape = vec![oc, x.1 / group];
        wshape.extend(std::iter::repeat_n(k, spatial));
        let n = wshape.iter().product();
        self.constant("w", wshape, rng.vec(n, -0.5, 0.5));
        self.constant("b", vec![oc], rng.vec(oc, -0.2, 0.2));
        let attrs = vec![
            ("pads", Attribute::Ints(vec![1; 2 * spatial])),
            ("group", Attribute::Int(group as i64)),
        ];
        let inputs: &[&str] = if bias { &[x.0, "w", "b"] } else { &[x.0, "w"] };
        self.node("Conv", inputs, "c", attrs);
    }

    fn batch_norm(&mut self, rng: &mut Rng, input: &str, c: usize, output: &str) {
        self.constant("scale", vec![c], rng.vec(c, 0.5, 1.5));
        self.constant("shift", vec![c], rng.vec(c, -0.3, 0.3));
        self.constant("mean", vec![c], rng.vec(c, -0.2, 0.2));
        self.constant("var", vec![c], rng.vec(c, 0.3, 2.0));
        let ins = [input, "scale", "shift", "mean", "var"];
        self.node("BatchNormalization", &ins, output, vec![]);
    }

    fn finish(mut self, outputs: &[&str]) -> (Model, BTreeMap<String, TensorData>) {
        self.outputs = outputs.iter().map(|o| info(o)).collect();
        let model = Model {
            graph: Graph {
                name: "chain".into(),
                inputs: self.inputs,
                outputs: self.outputs,
                initializers: self.init,
                nodes: self.nodes,
                value_info: Default::default(),
            },
            opsets: [(String::new(), 17)].into(),
            ir_version: 8,
            producer_name: "test".into(),
            producer_version: String::new(),
            metadata: BTreeMap::new(),
        };
        (model, self.feeds)
    }
}

fn chains(ops: &[String]) -> Vec<&str> {
    ops.iter()
        .map(String::as_str)
        .filter(|op| op.starts_with("Conv"))
        .collect()
}

#[test]
fn clip_bounds_from_constant_inputs() {
    let mut rng = Rng::new(1);
    let mut g = Builder::default();
    g.input("x", vec![2, 5, 9, 7], rng.vec(2 * 5 * 63, -1.0, 1.0));
    g.conv(&mut rng, ("x", 5), 7, 3, 1);
    g.constant("lo", vec![], vec![-0.25]);
    g.constant("hi", vec![], vec![0.5]);
    g.node("Clip", &["c", "lo", "hi"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    assert_eq!(chains(&assert_same("clip", &model, &feeds)), ["Conv+Clip"]);
}

#[test]
fn broadcast_residual_runs_after_the_kernel() {
    let mut rng = Rng::new(2);
    let mut g = Builder::default();
    g.input("x", vec![1, 6, 10, 10], rng.vec(600, -1.0, 1.0));
    g.input("z", vec![1, 8, 1, 1], rng.vec(8, -1.0, 1.0));
    g.conv(&mut rng, ("x", 6), 8, 3, 1);
    g.batch_norm(&mut rng, "c", 8, "n");
    g.node("Add", &["z", "n"], "s", vec![]);
    g.node("Relu", &["s"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("broadcast", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+BatchNormalization+Add+Relu"]);
}

#[test]
fn depthwise_with_scale_and_residual() {
    let mut rng = Rng::new(3);
    let mut g = Builder::default();
    g.input("x", vec![2, 12, 9, 9], rng.vec(2 * 12 * 81, -1.0, 1.0));
    g.input("z", vec![2, 12, 9, 9], rng.vec(2 * 12 * 81, -1.0, 1.0));
    g.conv(&mut rng, ("x", 12), 12, 3, 12);
    g.batch_norm(&mut rng, "c", 12, "n");
    g.node("Add", &["n", "z"], "s", vec![]);
    g.node("Relu", &["s"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("depthwise", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+BatchNormalization+Add+Relu"]);
}

#[test]
fn a_two_input_sum_is_a_residual_and_long_reductions_stay_exact() {
    let mut rng = Rng::new(9);
    let mut g = Builder::default();
    // 64 channels x 3 x 3 = 576 reduction steps: the kernel splits the reduction in chunks.
    g.input("x", vec![1, 64, 9, 11], rng.vec(64 * 99, -1.0, 1.0));
    g.input("z", vec![1, 7, 9, 11], rng.vec(7 * 99, -1.0, 1.0));
    g.conv(&mut rng, ("x", 64), 7, 3, 1);
    g.batch_norm(&mut rng, "c", 7, "n");
    g.node("Sum", &["n", "z"], "s", vec![]);
    g.node("Relu", &["s"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("sum residual", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+BatchNormalization+Sum+Relu"]);
}

#[test]
fn one_dimensional_conv_with_full_residual() {
    let mut rng = Rng::new(4);
    let mut g = Builder::default();
    g.input("x", vec![3, 4, 19], rng.vec(3 * 4 * 19, -1.0, 1.0));
    g.input("z", vec![3, 6, 19], rng.vec(3 * 6 * 19, -1.0, 1.0));
    g.conv(&mut rng, ("x", 4), 6, 3, 1);
    g.batch_norm(&mut rng, "c", 6, "n");
    g.node("Add", &["z", "n"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("1-d", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+BatchNormalization+Add"]);
}

#[test]
fn values_read_elsewhere_are_not_fused() {
    let mut rng = Rng::new(5);
    let mut g = Builder::default();
    g.input("x", vec![1, 3, 8, 8], rng.vec(192, -1.0, 1.0));
    g.conv(&mut rng, ("x", 3), 4, 3, 1);
    g.batch_norm(&mut rng, "c", 4, "n");
    g.node("Relu", &["n"], "y", vec![]);
    // The conv output is also a graph output: the conv runs alone; BN and Relu are not convs.
    let (model, feeds) = g.finish(&["y", "c"]);
    let ops = assert_same("shared", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv"]);
}

#[test]
fn conv_without_bias_keeps_the_residual_apart_from_the_bias() {
    let mut rng = Rng::new(6);
    let mut g = Builder::default();
    g.input("x", vec![1, 4, 12, 12], rng.vec(576, -1.0, 1.0));
    g.input("z", vec![1, 5, 12, 12], rng.vec(720, -1.0, 1.0));
    g.conv_inputs(&mut rng, ("x", 4), 5, 3, 1, false);
    g.node("Add", &["c", "z"], "s", vec![]);
    g.node("Relu", &["s"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("no bias", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+Add+Relu"]);
}

#[test]
fn per_channel_mul_and_add_constants_chain_like_batch_norm() {
    let mut rng = Rng::new(7);
    let mut g = Builder::default();
    g.input("x", vec![2, 3, 10, 6], rng.vec(360, -1.0, 1.0));
    g.conv(&mut rng, ("x", 3), 6, 3, 1);
    g.constant("m", vec![6, 1, 1], rng.vec(6, 0.5, 1.5));
    g.constant("a", vec![1, 6, 1, 1], rng.vec(6, -0.5, 0.5));
    g.node("Mul", &["m", "c"], "s", vec![]);
    g.node("Add", &["s", "a"], "t", vec![]);
    g.node("Relu", &["t"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("mul-add", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+Mul+Add+Relu"]);

    // A scalar Add alone, then a Mul whose constant would broadcast along the width: the Mul
    // is not a per-channel scale and stays out of the chain.
    let mut g = Builder::default();
    g.input("x", vec![1, 3, 8, 8], rng.vec(192, -1.0, 1.0));
    g.conv(&mut rng, ("x", 3), 8, 3, 1);
    g.constant("a", vec![], vec![0.25]);
    g.constant("m", vec![8], rng.vec(8, 0.5, 1.5));
    g.node("Add", &["c", "a"], "s", vec![]);
    g.node("Mul", &["s", "m"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("add-only", &model, &feeds);
    assert_eq!(chains(&ops), ["Conv+Add"]);
}

#[test]
fn a_member_without_outputs_is_an_error_not_a_panic() {
    let mut rng = Rng::new(8);
    let mut g = Builder::default();
    g.input("x", vec![1, 3, 8, 8], rng.vec(192, -1.0, 1.0));
    g.conv(&mut rng, ("x", 3), 4, 3, 1);
    g.batch_norm(&mut rng, "c", 4, "n");
    g.nodes.last_mut().expect("batch norm node").outputs.clear();
    g.node("Relu", &["x"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    // The outputless BatchNormalization is the conv's only reader: a chain candidate that
    // must be skipped (or reported), not indexed into.
    let outcome = std::panic::catch_unwind(|| {
        Session::new(&model, options(1, true)).map(|s| s.run(&feeds).map(|_| ()))
    });
    assert!(outcome.is_ok(), "building or running panicked");
}

fn maps(ops: &[String]) -> Vec<&str> {
    ops.iter()
        .map(String::as_str)
        .filter(|op| op.contains('+') && !op.starts_with("Conv"))
        .collect()
}

/// Element-wise chains (`ops::map_chain`): a decomposed hard-swish and an affine block by
/// scalars, over sizes below and above the parallel split, agree exactly with the nodes.
#[test]
fn element_wise_chains_match_the_nodes_one_by_one() {
    for (seed, shape) in [(9, vec![1, 8, 20, 30]), (10, vec![2, 8, 40, 60])] {
        let mut rng = Rng::new(seed);
        let mut g = Builder::default();
        let n = shape.iter().product();
        g.input("x", shape, rng.vec(n, -6.0, 6.0));
        for (name, v) in [
            ("three", 3.0),
            ("zero", 0.0),
            ("six", 6.0),
            ("s", 0.7),
            ("b", -0.2),
        ] {
            g.constant(name, vec![1], vec![v]);
        }
        g.node("Add", &["x", "three"], "a", vec![]);
        g.node("Clip", &["a", "zero", "six"], "c", vec![]);
        g.node("Mul", &["x", "c"], "m", vec![]);
        g.node("Div", &["m", "six"], "h", vec![]);
        g.node("Mul", &["s", "h"], "p", vec![]);
        g.node("Add", &["p", "b"], "q", vec![]);
        g.node("Sigmoid", &["q"], "r", vec![]);
        g.node("Sub", &["b", "r"], "t", vec![]);
        g.node("Tanh", &["t"], "y", vec![]);
        let (model, feeds) = g.finish(&["y"]);
        let ops = assert_same("hard-swish", &model, &feeds);
        assert_eq!(maps(&ops), ["Add+Clip", "Div+Mul+Add+Sigmoid+Sub+Tanh"]);
    }
}

/// Per-channel steps: an inference `BatchNormalization` and `Mul`/`Add` by `[C, 1, 1]` and
/// `[1, C, 1, 1]` constants (Caffe2's DenseNet pre-activation) join an element-wise chain, on
/// planes below and above the parallel split; a 2-D input, tiny planes, and a constant whose
/// broadcast lands on another axis than 1 run the nodes' own ops, with the same results.
#[test]
fn per_channel_steps_join_element_wise_chains() {
    let shapes = [
        vec![1, 6, 9, 11],
        vec![2, 12, 40, 50],
        vec![3, 5, 2, 2],
        vec![3, 5],
    ];
    for (seed, shape) in (13..).zip(shapes) {
        let mut rng = Rng::new(seed);
        let mut g = Builder::default();
        let (n, c, rank) = (shape.iter().product(), shape[1], shape.len());
        g.input("x", shape, rng.vec(n, -3.0, 3.0));
        g.batch_norm(&mut rng, "x", c, "bn");
        let mut tail = vec![1; rank - 1];
        tail[0] = c;
        g.constant("m", tail.clone(), rng.vec(c, 0.5, 2.0));
        tail.insert(0, 1);
        g.constant("a", tail, rng.vec(c, -1.0, 1.0));
        g.constant("half", vec![1], vec![0.5]);
        g.node("Mul", &["bn", "m"], "s", vec![]);
        g.node("Add", &["a", "s"], "t", vec![]);
        g.node("Relu", &["t"], "r", vec![]);
        g.node("Mul", &["r", "half"], "y", vec![]);
        let (model, feeds) = g.finish(&["y"]);
        let ops = assert_same("per-channel", &model, &feeds);
        assert_eq!(maps(&ops), ["BatchNormalization+Mul+Add+Relu+Mul"]);
    }
    let mut rng = Rng::new(17);
    let mut g = Builder::default();
    g.input("x", vec![5, 5, 12], rng.vec(300, -3.0, 3.0));
    g.constant("m", vec![5, 1, 1], rng.vec(5, 0.5, 2.0));
    g.node("Mul", &["x", "m"], "s", vec![]);
    g.node("Relu", &["s"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    assert_eq!(maps(&assert_same("axis 0", &model, &feeds)), ["Mul+Relu"]);
}

/// A value read elsewhere (here a graph output) ends a chain; a constant of higher rank than
/// the input broadcasts the output up, so that chain runs its nodes' own ops.
#[test]
fn element_wise_chains_stop_at_shared_values_and_respect_broadcasting() {
    let mut rng = Rng::new(11);
    let mut g = Builder::default();
    g.input("x", vec![50], rng.vec(50, 0.5, 4.0));
    g.constant("k", vec![1, 1], vec![2.0]);
    g.node("Sqrt", &["x"], "a", vec![]);
    g.node("Neg", &["a"], "b", vec![]);
    g.node("Abs", &["b"], "mid", vec![]);
    g.node("Div", &["k", "mid"], "d", vec![]);
    g.node("Relu", &["d"], "y", vec![]);
    let (model, feeds) = g.finish(&["mid", "y"]);
    let ops = assert_same("shared", &model, &feeds);
    assert_eq!(maps(&ops), ["Sqrt+Neg+Abs", "Div+Relu"]);
    let out = Session::new(&model, options(1, true))
        .expect("session")
        .run(&feeds)
        .expect("run");
    assert_eq!(out["y"].shape, [1, 50]);
}

/// Gates, `x * Sigmoid(x)` (SiLU) and `x * HardSigmoid(x)` (hard-swish), are one step of a
/// chain, at its start or inside it.
#[test]
fn element_wise_chains_take_gates() {
    let mut rng = Rng::new(12);
    let mut g = Builder::default();
    g.input("x", vec![1, 16, 40, 60], rng.vec(38_400, -5.0, 5.0));
    g.constant("s", vec![], vec![1.5]);
    g.node("Sigmoid", &["x"], "sx", vec![]);
    g.node("Mul", &["x", "sx"], "silu", vec![]);
    g.node("Mul", &["silu", "s"], "a", vec![]);
    let hs = vec![
        ("alpha", Attribute::Float(1.0 / 6.0)),
        ("beta", Attribute::Float(0.5)),
    ];
    g.node("HardSigmoid", &["a"], "ha", hs);
    g.node("Mul", &["ha", "a"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("gates", &model, &feeds);
    assert_eq!(maps(&ops), ["Sigmoid+Mul+Mul+HardSigmoid+Mul"]);

    // A constant of higher rank than the input: the nodes' own ops, gate included.
    let mut g = Builder::default();
    g.input("x", vec![30], rng.vec(30, -5.0, 5.0));
    g.constant("k", vec![1, 1], vec![0.5]);
    g.node("Sigmoid", &["x"], "sx", vec![]);
    g.node("Mul", &["sx", "x"], "silu", vec![]);
    g.node("Mul", &["silu", "k"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let ops = assert_same("gate fallback", &model, &feeds);
    assert_eq!(maps(&ops), ["Sigmoid+Mul+Mul"]);
}

/// A chained depthwise conv whose padding is huge but whose stride keeps the output tiny: the
/// padded input the kernel would materialize is refused against the memory budget, with an
/// error, before anything is allocated.
#[test]
fn a_chained_conv_with_huge_padding_is_refused_not_allocated() {
    let mut rng = Rng::new(9);
    let mut g = Builder::default();
    g.input("x", vec![1, 2, 4, 4], rng.vec(32, -1.0, 1.0));
    g.constant("w", vec![2, 1, 1, 1], rng.vec(2, -0.5, 0.5));
    let huge = 1i64 << 40;
    let attrs = vec![
        ("pads", Attribute::Ints(vec![huge; 4])),
        ("strides", Attribute::Ints(vec![huge; 2])),
        ("group", Attribute::Int(2)),
    ];
    g.node("Conv", &["x", "w"], "c", attrs);
    g.node("Relu", &["c"], "y", vec![]);
    let (model, feeds) = g.finish(&["y"]);
    let session = Session::new(&model, options(1, true)).expect("session");
    let err = session
        .run(&feeds)
        .expect_err("a padded input of 2^82 values");
    let msg = err.to_string();
    assert!(
        msg.contains("Conv_0") && msg.contains("fit in memory"),
        "{msg}"
    );
}
