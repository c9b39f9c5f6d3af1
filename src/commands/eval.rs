//! `burnish eval`: top-1 / top-k accuracy of a classifier on labeled data.

use std::process::ExitCode;

use burnish_eval::{DataSpec, EvalOptions, evaluate, load_dataset};
use burnish_model::npy::write_atomic;

use crate::cli::EvalArgs;

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let model = burnish_model::load_onnx(&args.model)?;
    let data = load_dataset(
        &model,
        &DataSpec {
            data: &args.data,
            data_key: args.data_key.as_deref(),
            labels: args.labels.as_deref(),
            labels_key: args.labels_key.as_deref(),
        },
    )?;
    let options = EvalOptions {
        batch: args.batch,
        top_k: args.top_k,
        threads: args.threads,
        output: args.output_name.clone(),
    };
    let (e, _) = evaluate(&model, &data, &options)?;
    let json = serde_json::json!({
        "model": args.model.display().to_string(),
        "data": args.data.display().to_string(),
        "evaluation": e,
    });
    if let Some(path) = &args.output {
        write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "top-1 {:.2}% ({}/{})  top-{} {:.2}% ({}/{})",
        e.top1 * 100.0,
        e.correct_top1,
        e.samples,
        e.k,
        e.topk * 100.0,
        e.correct_topk,
        e.samples
    );
    println!(
        "output `{}`, {} classes, batch {}, {:.1} ms",
        e.output, e.classes, e.batch, e.millis
    );
    Ok(ExitCode::SUCCESS)
}
