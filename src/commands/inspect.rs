//! `burnish inspect`.

use std::collections::HashMap;
use std::process::ExitCode;

use burnish_runtime::inspect::inspect;

use crate::cli::InspectArgs;

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let model = burnish_model::load_onnx(&args.model)?;
    let dims: HashMap<String, usize> = args.dims.dims.into_iter().collect();
    let report = inspect(&model, &dims);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("model      {}", args.model.display());
    println!("producer   {}", report.producer);
    println!("opset      {} (ir {})", report.opset, report.ir_version);
    println!("nodes      {}", report.nodes);
    println!(
        "parameters {} ({:.2} MiB)",
        report.parameters,
        report.parameter_bytes as f64 / (1024.0 * 1024.0)
    );
    for (kind, list) in [("input", &report.inputs), ("output", &report.outputs)] {
        for io in list {
            println!("{kind:<10} {} {} {}", io.name, io.dtype, io.shape);
        }
    }
    println!("\n{:<28} {:>6} {:>16}", "op", "count", "MACs");
    for (op, count) in &report.op_histogram {
        let macs = report
            .macs_by_op
            .as_ref()
            .and_then(|m| m.get(op))
            .map(|m| m.to_string())
            .unwrap_or_default();
        println!("{op:<28} {count:>6} {macs:>16}");
    }
    if let Some(m) = &report.macs_by_op {
        println!(
            "total MACs {} at {:?}",
            m.values().sum::<u64>(),
            report.macs_shapes
        );
    }
    if let Some(note) = &report.macs_note {
        println!("MACs unavailable: {note}");
    }
    if !report.unsupported.is_empty() {
        let list: Vec<String> = report
            .unsupported
            .iter()
            .map(|(op, n)| format!("{op} (x{n})"))
            .collect();
        println!("unsupported: {}", list.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
