//! Accuracy of `digits_cnn` in float and static int8 (every calibration method), as QDQ and
//! lowered to int8 ops. Run from the workspace root:
//! `cargo run --release -p burnish-quant --example digits_accuracy`.

use std::path::Path;

use burnish_eval::{DataSpec, Dataset, EvalOptions, evaluate, load_dataset};
use burnish_model::{Model, load_onnx};
use burnish_quant::{Calibration, QuantConfig, RangeMethod, lower_qdq, quantize};

/// Top-1 accuracy by the one evaluator (`burnish_eval::evaluate`).
fn accuracy(model: &Model, data: &Dataset) -> Result<f64, Box<dyn std::error::Error>> {
    Ok(evaluate(model, data, &EvalOptions::default())?.0.top1)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = "tests/fixtures/models";
    let model = load_onnx(format!("{dir}/digits_cnn.onnx"))?;
    let test = format!("{dir}/digits_test.npz");
    let data = load_dataset(
        &model,
        &DataSpec {
            data: Path::new(&test),
            data_key: Some("x"),
            labels: None,
            labels_key: Some("y"),
        },
    )?;
    let cal = Calibration::from_npz(format!("{dir}/digits_calibration.npz"))?;
    println!("fp32: {:.4}", accuracy(&model, &data)?);
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
        let qdq = accuracy(&q, &data)?;
        let mut lowered = q.clone();
        let lrec = lower_qdq(&mut lowered)?;
        let low = accuracy(&lowered, &data)?;
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
