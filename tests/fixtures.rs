//! Every committed fixture model runs and matches onnxruntime's outputs.

mod common;

use burnish_model::compare::diff;
use burnish_model::{load_onnx, read_tensors};
use burnish_runtime::{Session, SessionOptions};

/// Max relative error allowed against onnxruntime (f32), as the foundation issue states.
const MAX_REL: f64 = 1e-4;

#[test]
fn every_fixture_matches_onnxruntime() {
    let names = common::fixture_names();
    assert!(
        names.len() >= 8,
        "expected the committed fixtures, found {names:?}"
    );
    let mut failures = Vec::new();
    for name in &names {
        let dir = common::fixtures();
        let model = load_onnx(dir.join(format!("{name}.onnx"))).expect("fixture loads");
        let inputs = read_tensors(dir.join(format!("{name}.inputs.npz"))).expect("inputs");
        let expected = read_tensors(dir.join(format!("{name}.outputs.npz"))).expect("outputs");
        let session = match Session::new(&model, SessionOptions::threads(Some(1))) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let outputs = match session.run(&inputs) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        assert_eq!(outputs.len(), expected.len(), "{name}: output count");
        for (out, want) in &expected {
            let got = outputs
                .get(out)
                .unwrap_or_else(|| panic!("{name}: no output `{out}`"));
            match diff(got, want) {
                Ok(d) if d.max_rel <= MAX_REL => {
                    eprintln!(
                        "{name}/{out}: max abs {:.2e}, max rel {:.2e}",
                        d.max_abs, d.max_rel
                    )
                }
                Ok(d) => failures.push(format!(
                    "{name}/{out}: max abs {:.3e}, max rel {:.3e}",
                    d.max_abs, d.max_rel
                )),
                Err(e) => failures.push(format!("{name}/{out}: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures differ from onnxruntime:\n{}",
        failures.join("\n")
    );
}

#[test]
fn batch_size_is_dynamic() {
    let dir = common::fixtures();
    let model = load_onnx(dir.join("resnet.onnx")).unwrap();
    let session = Session::new(&model, SessionOptions::threads(Some(1))).unwrap();
    let inputs = read_tensors(dir.join("resnet.inputs.npz")).unwrap();
    let expected = read_tensors(dir.join("resnet.outputs.npz")).unwrap();
    let (name, x) = inputs.iter().next().unwrap();
    // Row 1 alone must give row 1 of the batch-2 reference.
    let per = x.len() / x.shape[0];
    let data = x.as_f32().unwrap()[per..2 * per].to_vec();
    let mut shape = x.shape.clone();
    shape[0] = 1;
    let one = burnish_model::TensorData::from_f32(shape, data);
    let out = session
        .run(&[(name.clone(), one)].into_iter().collect())
        .unwrap();
    let (oname, want) = expected.iter().next().unwrap();
    let got = out[oname].as_f32().unwrap();
    let w = want.as_f32().unwrap();
    let row = w.len() / want.shape[0];
    for (a, b) in got.iter().zip(&w[row..]) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1e-2), "{a} vs {b}");
    }
}

#[test]
fn sessions_are_reusable_and_deterministic() {
    let dir = common::fixtures();
    let model = load_onnx(dir.join("bert.onnx")).unwrap();
    let session = Session::new(&model, SessionOptions::threads(Some(2))).unwrap();
    let inputs = read_tensors(dir.join("bert.inputs.npz")).unwrap();
    let a = session.run(&inputs).unwrap();
    let b = session.run(&inputs).unwrap();
    assert_eq!(a, b);
}
