//! `burnish inspect`.

use std::collections::HashMap;
use std::process::ExitCode;

use burnish_accuracy::QuantInspection;
use burnish_accuracy::inspect::{Precision, inspect_quant};
use burnish_model::synth::random_inputs;
use burnish_runtime::inspect::inspect;

use crate::cli::InspectArgs;

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let model = burnish_model::load_onnx(&args.model)?;
    let dims: HashMap<String, usize> = args.dims.dims.into_iter().collect();
    let report = inspect(&model, &dims);
    let quant = args.quant.then(|| {
        let inputs = random_inputs(&model.graph, &dims, 0).ok();
        inspect_quant(&model, inputs.as_ref())
    });
    if args.json {
        let json = match &quant {
            Some(q) => serde_json::json!({ "inspect": report, "quant": q }),
            None => serde_json::to_value(&report)?,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
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
    if let Some(q) = &quant {
        print_quant(q);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the "why is it not faster" section (also used by `optimize`).
pub fn print_quant(q: &QuantInspection) {
    let on: Vec<&str> = q
        .cpu
        .features
        .iter()
        .filter(|(_, on)| **on)
        .map(|(f, _)| f.as_str())
        .collect();
    println!("\nint8 on this CPU");
    println!(
        "  kernel     {} (available: {})",
        q.cpu.kernel,
        q.cpu.available.join(", ")
    );
    println!("  features   {}", on.join(" "));
    println!("  note       {}", q.cpu.note);
    let total: u64 = q.macs.values().sum();
    if total > 0 {
        for (precision, macs) in &q.macs {
            println!(
                "  MACs {precision:<12} {macs:>14} ({:.1}%)",
                *macs as f64 * 100.0 / total as f64
            );
        }
    }
    if let Some(note) = &q.note {
        println!("  MACs unavailable: {note}");
    }
    println!(
        "  boundaries {} quantize, {} dequantize (activations)",
        q.quantize_boundaries, q.dequantize_boundaries
    );
    let float: Vec<String> = q
        .nodes
        .iter()
        .filter(|n| n.precision == Precision::Float)
        .map(|n| n.name.clone())
        .collect();
    if !float.is_empty() {
        println!("  float MAC nodes: {}", float.join(", "));
    }
}
