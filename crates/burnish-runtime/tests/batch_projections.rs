//! An unrolled recurrence's per-step input projections (`Gemm(Gather(X, t), W, C)`) run as one
//! product over all steps when the session is built with its fusions, and give bit for bit
//! what the per-step `Gemm`s give. The per-step results themselves are checked against
//! onnxruntime in `op_cases.rs` (fixture `linalg/gemm_unrolled_projections`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_model::{Dim, TensorData, load_onnx};
use burnish_runtime::{Session, SessionOptions};

fn case() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ops/linalg/gemm_unrolled_projections")
}

#[test]
fn batched_projections_match_the_per_step_gemms_exactly() {
    let model = load_onnx(case().join("model.onnx")).expect("fixture");
    let mut feeds = BTreeMap::new();
    for input in &model.graph.inputs {
        let shape: Vec<usize> = input
            .shape
            .iter()
            .flatten()
            .map(|d| match d {
                Dim::Fixed(n) => *n,
                other => panic!("fixture dims are fixed: {other:?}"),
            })
            .collect();
        let len = shape.iter().product::<usize>();
        let values = (0..len)
            .map(|i| (i * 37 % 101) as f32 * 0.02 - 1.0)
            .collect();
        feeds.insert(input.name.clone(), TensorData::from_f32(shape, values));
    }
    for threads in [1, 2] {
        let options = |conv_chains| SessionOptions {
            threads: Some(threads),
            conv_chains,
            ..SessionOptions::default()
        };
        let plain = Session::new(&model, options(false)).expect("session");
        let batched = Session::new(&model, options(true)).expect("session");
        let want = plain.run(&feeds).expect("per-step run");
        let got = batched.run(&feeds).expect("batched run");
        assert_eq!(want.len(), got.len());
        for (name, w) in &want {
            let bits = |t: &TensorData| -> Vec<u32> {
                t.as_f32()
                    .expect("f32")
                    .iter()
                    .map(|v| v.to_bits())
                    .collect()
            };
            assert_eq!(w.shape, got[name].shape, "{name}");
            assert_eq!(bits(w), bits(&got[name]), "{name} ({threads} threads)");
        }
        let values = batched.prepare_inputs(&feeds).expect("inputs");
        let (_, timings) = batched.run_profiled(values).expect("profiled");
        let count = |op: &str| timings.iter().filter(|t| t.op_type == op).count();
        assert_eq!(count("Linear"), 2, "one product per group");
        assert_eq!(count("Gemm"), 1, "the alpha = 0.5 Gemm stays");
        assert_eq!(
            count("Gather"),
            11 + 2,
            "a Gather per step, and the two the Relu and the alpha Gemm read"
        );
    }
}
