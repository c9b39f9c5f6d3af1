//! Accuracy of `digits_cnn` in float and static int8 (every calibration method), as QDQ and
//! lowered to int8 ops. Run from the workspace root:
//! `cargo run --release -p burnish-quant --example digits_accuracy`.

use std::collections::BTreeMap;

use burnish_model::{Model, TensorData, load_onnx, read_tensors};
use burnish_quant::{Calibration, QuantConfig, RangeMethod, lower_qdq, quantize};
use burnish_runtime::{Session, SessionOptions};

fn accuracy(model: &Model, x: &TensorData, y: &[i64]) -> Result<f64, Box<dyn std::error::Error>> {
    let session = Session::new(model, SessionOptions::default())?;
    let name = model.graph.inputs[0].name.clone();
    let out = session.run(&BTreeMap::from([(name, x.clone())]))?;
    let logits = out.values().next().ok_or("no output")?;
    let v = logits.to_f64_vec().ok_or("not numeric")?;
    let classes = logits.shape[1];
    let hits = y
        .iter()
        .enumerate()
        .filter(|&(i, &label)| {
            let row = &v[i * classes..(i + 1) * classes];
            let best = (0..classes)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            best as i64 == label
        })
        .count();
    Ok(hits as f64 / y.len() as f64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = "tests/fixtures/models";
    let model = load_onnx(format!("{dir}/digits_cnn.onnx"))?;
    let test = read_tensors(format!("{dir}/digits_test.npz"))?;
    let (x, y) = (&test["x"], test["y"].to_i64_vec().ok_or("labels")?);
    let cal = Calibration::from_npz(format!("{dir}/digits_calibration.npz"))?;
    println!("fp32: {:.4}", accuracy(&model, x, &y)?);
    for method in [
        "minmax",
        "percentile:99.99",
        "percentile:99.9",
        "entropy",
        "mse",
    ] {
        let cfg = QuantConfig {
            method: method.parse()?,
            ..Default::default()
        };
        let (q, record) = quantize(&model, &cfg, Some(&cal))?;
        let qdq = accuracy(&q, x, &y)?;
        let mut lowered = q.clone();
        let lrec = lower_qdq(&mut lowered)?;
        let low = accuracy(&lowered, x, &y)?;
        println!(
            "{method:<18} qdq {qdq:.4}  int8 ops {low:.4}  (qconv {}, qmatmul {}, float: {:?}) int8 MACs {:.1}%",
            lrec.qconv,
            lrec.qmatmul,
            lrec.left_in_float,
            100.0 * record.quantized_mac_share
        );
    }
    let _ = RangeMethod::MinMax;
    Ok(())
}
