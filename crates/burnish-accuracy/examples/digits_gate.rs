//! digits_cnn: fp32 and static-int8 accuracy, and the accuracy gate at a given budget.
//!
//! ```sh
//! cargo run --release -p burnish-accuracy --example digits_gate -- 0.5% [method]
//! ```

use std::path::Path;
use std::time::Instant;

use burnish_accuracy::gate::{AccuracyBudget, DropKind, GateLimits, Sensitivity};
use burnish_accuracy::{GateOptions, gate_quantization, inspect_quant};
use burnish_eval::{DataSpec, EvalOptions, evaluate, load_dataset};
use burnish_quant::{Calibration, QuantConfig, lower_qdq, quantize};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models");
    let args: Vec<String> = std::env::args().collect();
    let budget = args.get(1).map(String::as_str).unwrap_or("0.5%");
    let method = args.get(2).map(String::as_str).unwrap_or("minmax");
    let model = burnish_model::load_onnx(dir.join("digits_cnn.onnx"))?;
    let test = dir.join("digits_test.npz");
    let data = load_dataset(
        &model,
        &DataSpec {
            data: &test,
            data_key: Some("x"),
            labels: None,
            labels_key: Some("y"),
        },
    )?;
    let calibration = Calibration::from_npz(dir.join("digits_calibration.npz"))?;
    let eval = EvalOptions {
        top_k: 1,
        threads: Some(1),
        ..Default::default()
    };
    let (fp32, _) = evaluate(&model, &data, &eval)?;
    let cfg = QuantConfig {
        method: method.parse()?,
        ..Default::default()
    };
    let (qdq, _) = quantize(&model, &cfg, Some(&calibration))?;
    let mut lowered = qdq.clone();
    lower_qdq(&mut lowered)?;
    let (q_qdq, _) = evaluate(&qdq, &data, &eval)?;
    let (q_low, _) = evaluate(&lowered, &data, &eval)?;
    println!(
        "fp32 {:.4} ({}/{}), static-int8 {method}: QDQ graph {:.4}, lowered int8 ops {:.4}",
        fp32.top1, fp32.correct_top1, fp32.samples, q_qdq.top1, q_low.top1
    );
    let q = inspect_quant(&lowered, Some(&data.rows(0, 1)?));
    println!(
        "lowered: int8 share {:?}, {} quantize / {} dequantize boundaries, kernel {}",
        q.int8_share, q.quantize_boundaries, q.dequantize_boundaries, q.cpu.kernel
    );
    for sensitivity in [Sensitivity::LeaveOneOut, Sensitivity::OnlyOne] {
        let t0 = Instant::now();
        let opts = GateOptions {
            budget: AccuracyBudget::parse(budget, DropKind::Abs)?,
            method: sensitivity,
            limits: GateLimits::default(),
            eval: eval.clone(),
        };
        let g = gate_quantization(&model, &cfg, Some(&calibration), &data, &opts)?;
        let r = &g.gate.record;
        println!(
            "gate {budget} {sensitivity:?}: accuracy {:.4} (drop {:.4}), within {}, kept float {:?}, {} trials, {:.2} s, stop {:?}",
            r.accuracy,
            r.drop,
            r.within_budget,
            r.kept_float,
            r.trials.len(),
            t0.elapsed().as_secs_f64(),
            r.stop
        );
    }
    Ok(())
}
