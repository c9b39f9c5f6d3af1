//! `burnish optimize`: run the optimizer, check fidelity, write `OUT.onnx` and `OUT.json`.

use std::process::ExitCode;

use anyhow::Context;
use burnish_accuracy::OptimizeOutput;
use burnish_eval::{compare_models, seeded_inputs_for};
use burnish_model::npy::write_atomic;
use burnish_model::{load_onnx, read_tensors, save_onnx};
use burnish_optimizer::{OptimizeOptions, PassManager, convert_opset, lower_for_export};

use crate::cli::OptimizeArgs;

/// What quantizing recorded: the quantizer, the QDQ lowering (`--keep-fused`), the accuracy
/// gate and the float fallback.
struct QuantRecords {
    quant: burnish_quant::QuantRecord,
    lowering: Option<burnish_quant::LowerRecord>,
    gate: Option<burnish_accuracy::GateRecord>,
    fallback: Option<burnish_quant::fallback::FallbackRecord>,
}

/// Quantizes the optimized model (unfused to standard ops first); with `--keep-fused` the QDQ
/// patterns are lowered to the int8 ops burnish executes.
fn quantize_model(
    model: &burnish_model::Model,
    mode: burnish_quant::QuantMode,
    args: &OptimizeArgs,
) -> anyhow::Result<(burnish_model::Model, QuantRecords)> {
    let cfg = burnish_quant::QuantConfig {
        mode,
        method: args.calibration_method,
        per_channel: !args.per_tensor,
        activation_type: args.activation_type,
        weight_bits: args.weight_bits,
        exclude_nodes: args.exclude_node.clone(),
        block_size: args.block_size,
        half_compute: args.half_compute,
        target: match (args.qdq_target, args.keep_fused) {
            (Some(t), _) => t.into(),
            (None, true) => burnish_quant::QdqTarget::Burnish,
            (None, false) => burnish_quant::QdqTarget::Onnxruntime,
        },
        ..Default::default()
    };
    let calibration = match &args.calibration {
        Some(path) => Some(burnish_quant::Calibration::from_npz(path)?),
        None => None,
    };
    let (q, record, gate, fallback) = match super::gate::settings(&args.gate, model)? {
        Some((data, opts)) => {
            let g = burnish_accuracy::gate_quantization(
                model,
                &cfg,
                calibration.as_ref(),
                &data,
                &opts,
            )
            .with_context(|| format!("accuracy gate on `{}`", args.model.display()))?;
            super::gate::print(&g.gate.record);
            (g.qdq, g.quant, Some(g.gate.record), None)
        }
        None => match super::floor::data(args).filter(|_| !args.no_float_fallback) {
            Some(path) => {
                let samples = burnish_model::Samples::read(&model.graph, path)?;
                let opts = burnish_quant::fallback::FallbackOptions {
                    floor_samples: super::floor::SAMPLES,
                    ..Default::default()
                };
                let f = burnish_quant::fallback::float_fallback(
                    model,
                    &cfg,
                    calibration.as_ref(),
                    &samples,
                    &opts,
                )
                .with_context(|| format!("quantizing `{}` ({mode})", args.model.display()))?;
                super::floor::print_fallback(&f.record);
                (f.quantized.qdq, f.quantized.record, None, Some(f.record))
            }
            None => {
                let q = burnish_quant::quantize_for_burnish(model, &cfg, calibration.as_ref())
                    .with_context(|| format!("quantizing `{}` ({mode})", args.model.display()))?;
                (q.qdq, q.record, None, None)
            }
        },
    };
    let (q, lowering) = match args.keep_fused {
        true => {
            let mut lowered = q;
            let rec = burnish_quant::lower_qdq(&mut lowered)?;
            (lowered, Some(rec))
        }
        false => (q, None),
    };
    let floats = record.nodes.iter().filter(|n| !n.quantized).count();
    println!(
        "quantized ({mode}): {} of {} MAC nodes, {:.1}% of MACs; {} Q and {} DQ nodes; {floats} node(s) left in float",
        record.nodes.len() - floats,
        record.nodes.len(),
        100.0 * record.quantized_mac_share,
        record.quantize_nodes,
        record.dequantize_nodes,
    );
    for n in record.nodes.iter().filter(|n| !n.quantized) {
        println!(
            "  float: {} ({}): {}",
            n.node,
            n.op_type,
            n.reason.as_deref().unwrap_or("")
        );
    }
    for note in &record.notes {
        println!("  note: {note}");
    }
    Ok((
        q,
        QuantRecords {
            quant: record,
            lowering,
            gate,
            fallback,
        },
    ))
}

/// Whether the model is in QDQ form (quantized by burnish or another tool).
fn has_qdq(model: &burnish_model::Model) -> bool {
    model
        .graph
        .nodes
        .iter()
        .any(|n| n.op_type == "DequantizeLinear" && n.domain.is_empty())
}

pub fn run(args: OptimizeArgs) -> anyhow::Result<ExitCode> {
    let synthesized = args.inputs.is_none();
    let (path, spec) = (args.model.clone(), args.dims.spec());
    let data = args.inputs.clone();
    let result = run_inner(args).map_err(|e| super::name_file(e, &path, data.as_deref()));
    if synthesized {
        return super::with_shape_hint(result, &path, &spec);
    }
    result
}

fn run_inner(args: OptimizeArgs) -> anyhow::Result<ExitCode> {
    let original = load_onnx(&args.model)?;
    let options = OptimizeOptions {
        level: args.level,
        verify: args.verify,
        disable: args.disable.clone(),
        only: args.only.clone(),
        dump_after: args.dump_after.clone(),
        ..Default::default()
    };
    let mut model = original.clone();
    if let Some(to) = args.opset {
        let rec = convert_opset(&mut model, to)
            .with_context(|| format!("raising the opset of `{}`", args.model.display()))?;
        let n: usize = rec.rewritten.values().sum();
        println!(
            "opset {} -> {}: {n} node(s) rewritten to the new forms{}",
            rec.from,
            rec.to,
            rec.rewritten
                .iter()
                .map(|(op, k)| format!(" {k} {op}"))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
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
    let (model, quant, qdq_lowering) = match &args.quantize {
        None if args.keep_fused && has_qdq(&model) => {
            let mut lowered = model;
            let rec = burnish_quant::lower_qdq(&mut lowered)
                .with_context(|| format!("lowering QDQ of `{}`", args.model.display()))?;
            println!(
                "QDQ lowered to int8 ops: {} QConv ({} with a residual Add), {} QMatMul/QGemm, {} DynamicQuantizeMatMul; {} left in float",
                rec.qconv,
                rec.residual_adds,
                rec.qmatmul,
                rec.dynamic_matmul,
                rec.left_in_float.len()
            );
            for why in &rec.left_in_float {
                println!("  float: {why}");
            }
            (lowered, None, Some(rec))
        }
        None => (model, None, None),
        Some(mode) => {
            let (q, records) = quantize_model(&model, *mode, &args)?;
            (q, Some(records), None)
        }
    };
    let inputs = match &args.inputs {
        Some(path) => read_tensors(path)?,
        None => seeded_inputs_for(&original, &args.dims.spec(), args.seed)?,
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
            d.name,
            d.diff.max_abs,
            d.diff.max_rel,
            m.mean_abs,
            m.cosine,
            m.snr_db.unwrap_or(f64::INFINITY)
        );
    }
    if quant.is_none() {
        let drifted: Vec<String> = diffs
            .iter()
            .filter(|d| !(d.diff.max_abs <= 1e-5 || d.metrics.snr_db.is_none_or(|s| s >= 60.0)))
            .map(|d| {
                format!(
                    "`{}` (max abs {:.3e}, SNR {:.1} dB)",
                    d.name,
                    d.diff.max_abs,
                    d.metrics.snr_db.unwrap_or(f64::INFINITY)
                )
            })
            .collect();
        let non_finite = args.inputs.as_ref().filter(|_| {
            inputs.values().any(|t| {
                t.to_f64_vec()
                    .is_some_and(|v| v.iter().any(|x| !x.is_finite()))
            })
        });
        if let Some(data) = non_finite {
            anyhow::ensure!(
                drifted.is_empty(),
                "the inputs in `{}` hold NaN or infinite values, on which the optimized model's \
                 outputs differ from `{}`'s: {}; nothing was written (check the data with finite \
                 values)",
                data.display(),
                args.model.display(),
                drifted.join(", ")
            );
        }
        anyhow::ensure!(
            drifted.is_empty(),
            "the exact passes changed the outputs of `{}`: {}; nothing was written (rerun with \
             `--verify` or `--disable PASS` to find the pass, and report it)",
            args.model.display(),
            drifted.join(", ")
        );
    }
    let (why_not_faster, fidelity_floor) = match &quant {
        Some(_) => {
            let mut executed = model.clone();
            if !args.keep_fused {
                burnish_quant::lower_qdq(&mut executed)?;
            }
            let why = super::gate::why_not_faster(&args.gate, &original, &executed, &inputs)?;
            (Some(why), super::floor::check(&args, &original, &executed)?)
        }
        None => (None, None),
    };
    let export = lower_for_export(&model, args.keep_fused);
    burnish_model::check::ensure_valid(&export, &args.output.display().to_string())
        .context("the model to write fails the ONNX checks; nothing was written")?;
    save_onnx(&export, &args.output)?;
    let json_path = args.output.with_extension("json");
    let within_budget = quant
        .as_ref()
        .and_then(|q| q.gate.as_ref())
        .is_none_or(|g| g.within_budget);
    let (quantization, lowering, accuracy_gate, float_fallback) = match quant {
        Some(r) => (Some(r.quant), r.lowering, r.gate, r.fallback),
        None => (None, qdq_lowering, None, None),
    };
    let out = OptimizeOutput {
        model: args.model.display().to_string(),
        output: args.output.display().to_string(),
        keep_fused: args.keep_fused,
        opset: export.opset(),
        record,
        fidelity: diffs,
        quantization,
        lowering,
        accuracy_gate,
        why_not_faster,
        fidelity_floor,
        float_fallback,
    };
    write_atomic(&json_path, serde_json::to_string_pretty(&out)?.as_bytes())?;
    println!(
        "wrote {} and {}",
        args.output.display(),
        json_path.display()
    );
    let floor_met = out.fidelity_floor.as_ref().is_none_or(|f| f.met());
    if !floor_met {
        super::floor::report_below(&out, &args);
    }
    if !within_budget || (!floor_met && !args.allow_fidelity_loss) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
