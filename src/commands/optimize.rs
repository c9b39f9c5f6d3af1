//! `burnish optimize`: run the optimizer, check fidelity, write `OUT.onnx` and `OUT.json`.

use std::process::ExitCode;

use anyhow::Context;
use burnish_model::npy::write_atomic;
use burnish_model::{load_onnx, read_tensors, save_onnx};
use burnish_optimizer::fidelity::{compare_models, seeded_inputs};
use burnish_optimizer::{OptimizeOptions, PassManager, lower_for_export};

use crate::cli::OptimizeArgs;

pub fn run(args: OptimizeArgs) -> anyhow::Result<ExitCode> {
    let original = load_onnx(&args.model)?;
    let options = OptimizeOptions {
        level: args.level.parse()?,
        verify: args.verify,
        disable: args.disable.clone(),
        only: args.only.clone(),
        dump_after: args.dump_after.clone(),
        ..Default::default()
    };
    let mut model = original.clone();
    let record = PassManager::new(options)?
        .run(&mut model)
        .with_context(|| format!("optimizing `{}`", args.model.display()))?;
    for dump in &record.dumps {
        println!(
            "--- after {} (iteration {}) ---\n{}",
            dump.pass, dump.iteration, dump.text
        );
    }
    println!(
        "{:<34} {:>5} {:>8} {:>10}",
        "pass", "runs", "changes", "time (ms)"
    );
    for p in &record.passes {
        println!(
            "{:<34} {:>5} {:>8} {:>10.2}",
            p.name, p.runs, p.changes, p.millis
        );
    }
    println!(
        "nodes {} -> {}, parameter bytes {} -> {}, {} iteration(s){}, {:.1} ms",
        record.nodes_before,
        record.nodes_after,
        record.param_bytes_before,
        record.param_bytes_after,
        record.iterations,
        if record.converged {
            ""
        } else {
            " (iteration cap reached)"
        },
        record.millis
    );
    let inputs = match &args.inputs {
        Some(path) => read_tensors(path)?,
        None => seeded_inputs(&original, args.seed)?,
    };
    let diffs = compare_models(&original, &model, &inputs)?;
    println!(
        "fidelity ({}):",
        if args.inputs.is_some() {
            "--inputs"
        } else {
            "seeded random inputs"
        }
    );
    for d in &diffs {
        let m = &d.metrics;
        let top1 = m
            .top1_agreement
            .map(|a| format!("  top-1 agree {:.2}%", a * 100.0))
            .unwrap_or_default();
        println!(
            "  {:<32} max abs {:.3e}  max rel {:.3e}  mean abs {:.3e}  cos {:.6}  SNR {:.1} dB{top1}",
            d.name, d.diff.max_abs, d.diff.max_rel, m.mean_abs, m.cosine, m.snr_db
        );
    }
    let export = lower_for_export(&model, args.keep_fused);
    save_onnx(&export, &args.output)?;
    let json_path = args.output.with_extension("json");
    let json = serde_json::json!({
        "model": args.model.display().to_string(),
        "output": args.output.display().to_string(),
        "keep_fused": args.keep_fused,
        "opset": export.opset(),
        "record": record,
        "fidelity": diffs,
    });
    write_atomic(&json_path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    println!(
        "wrote {} and {}",
        args.output.display(),
        json_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
