//! The accuracy gate and the "why is it not faster" section of `burnish optimize --quantize`.

use std::collections::BTreeMap;

use anyhow::bail;
use burnish_accuracy::gate::{AccuracyBudget, GateLimits, GateRecord};
use burnish_accuracy::profile::compare_profiles;
use burnish_accuracy::{GateOptions, WhyNotFaster, inspect_quant};
use burnish_eval::{DataSpec, Dataset, EvalOptions, load_dataset};
use burnish_model::{Model, TensorData};

use crate::cli::AccuracyGateArgs;
use crate::commands::inspect::print_quant;

/// The evaluation data and gate settings, when `--max-accuracy-drop` is given.
pub fn settings(
    args: &AccuracyGateArgs,
    model: &Model,
) -> anyhow::Result<Option<(Dataset, GateOptions)>> {
    let Some(drop) = &args.max_accuracy_drop else {
        return Ok(None);
    };
    let Some(data) = &args.eval_data else {
        bail!("`--max-accuracy-drop` needs labeled data: `--eval-data` (and `--eval-labels`)");
    };
    let budget = AccuracyBudget::parse(drop, args.accuracy_drop_kind)?;
    let method = args.sensitivity;
    let dataset = load_dataset(
        model,
        &DataSpec {
            data,
            data_key: args.eval_data_key.as_deref(),
            labels: args.eval_labels.as_deref(),
            labels_key: args.eval_labels_key.as_deref(),
        },
    )?;
    let opts = GateOptions {
        budget,
        method,
        limits: GateLimits {
            max_trials: args.gate_trials,
            time_limit: args.gate_time,
        },
        eval: EvalOptions {
            top_k: 1,
            ..Default::default()
        },
    };
    Ok(Some((dataset, opts)))
}

/// Prints the gate's outcome; the verdict line says plainly when the budget is not met.
pub fn print(r: &GateRecord) {
    let pct = |v: f64| v * 100.0;
    println!(
        "accuracy gate: budget {:.3}% ({:?}), float {:.2}%, fully quantized {}, {} trial(s), {:.1} s, stop: {:?}",
        pct(r.budget.max_drop),
        r.budget.kind,
        pct(r.baseline_accuracy),
        r.full_quant_accuracy
            .map(|a| format!("{:.2}%", pct(a)))
            .unwrap_or_else(|| "not evaluated".into()),
        r.trials.len(),
        r.millis / 1e3,
        r.stop
    );
    for (i, n) in r.ranking.iter().enumerate() {
        let score = n
            .score
            .map(|s| format!("{:.2}%  SNR {:.1} dB", pct(s.accuracy), s.snr_db))
            .unwrap_or_else(|| "not measured".into());
        println!(
            "  sensitivity {:>2}. {:<28} {:<8} {score}",
            i + 1,
            n.node,
            n.op_type
        );
    }
    let kept = if r.kept_float.is_empty() {
        "none".to_string()
    } else {
        r.kept_float.join(", ")
    };
    println!(
        "  {}: accuracy {:.2}% (drop {:.3}%), kept in float: {kept}",
        if r.within_budget {
            "within budget"
        } else {
            "BUDGET NOT MET (best model found is written)"
        },
        pct(r.accuracy),
        pct(r.drop)
    );
}

/// Prints and returns the int8 picture of the executed quantized model and, with `profile`,
/// per-op-type times of the float and the quantized model on `inputs`.
pub fn why_not_faster(
    args: &AccuracyGateArgs,
    float: &Model,
    executed: &Model,
    inputs: &BTreeMap<String, TensorData>,
) -> anyhow::Result<WhyNotFaster> {
    let q = inspect_quant(executed, Some(inputs));
    print_quant(&q);
    let profile = if args.profile {
        let p = compare_profiles(float, executed, inputs, args.profile_runs, None)?;
        println!(
            "\nprofile ({} runs): float {:.3} ms, quantized {:.3} ms of node time per run",
            p.runs, p.baseline_ms, p.quantized_ms
        );
        println!(
            "  {:<28} {:>6} {:>10} {:>6} {:>10}",
            "op", "float", "ms", "quant", "ms"
        );
        for o in &p.ops {
            println!(
                "  {:<28} {:>6} {:>10.3} {:>6} {:>10.3}",
                o.op_type, o.baseline_calls, o.baseline_ms, o.quantized_calls, o.quantized_ms
            );
        }
        Some(p)
    } else {
        None
    };
    Ok(WhyNotFaster {
        inspection: q,
        profile,
    })
}
