//! The fidelity floor of `burnish optimize --quantize`: its data, its check, the float
//! fallback's rounds and the message when the floor does not hold.

use anyhow::Context;
use burnish_accuracy::OptimizeOutput;

use crate::cli::OptimizeArgs;

/// Real samples for the fidelity floor: `--inputs`, else the calibration data.
pub fn data(args: &OptimizeArgs) -> Option<&std::path::Path> {
    args.inputs.as_deref().or(args.calibration.as_deref())
}

pub fn print_fallback(r: &burnish_quant::fallback::FallbackRecord) {
    if r.rounds.len() <= 1 {
        return;
    }
    println!("float fallback (the fidelity floor did not hold with every node quantized):");
    for round in &r.rounds {
        let top1 = round
            .worst_top1
            .map(|t| format!(", top-1 agreement {:.1}%", 100.0 * t))
            .unwrap_or_default();
        println!(
            "  {:>3} node(s) in float: worst cosine {:.4}{top1}, {} ({:.0} ms)",
            round.float_nodes.len(),
            round.worst_cosine,
            if round.met { "floor met" } else { "below" },
            round.millis
        );
    }
    if r.met {
        println!("  kept in float: {}", r.kept_float.join(", "));
    } else {
        println!(
            "  the floor did not hold with up to {} node(s) in float: every node stays quantized",
            r.rounds
                .iter()
                .map(|x| x.float_nodes.len())
                .max()
                .unwrap_or(0)
        );
    }
}

/// Samples the fidelity floor runs on at most.
pub const SAMPLES: usize = 8;

/// The fidelity floor of the quantized model as burnish runs it, on `--inputs` or else the
/// calibration data; `None` (with a note) without real data.
pub fn check(
    args: &OptimizeArgs,
    original: &burnish_model::Model,
    executed: &burnish_model::Model,
) -> anyhow::Result<Option<burnish_eval::FidelityFloor>> {
    let Some(path) = data(args) else {
        println!("fidelity floor: not checked (no real data: pass `--inputs` or `--calibration`)");
        return Ok(None);
    };
    let samples = burnish_model::Samples::read(&original.graph, path)?;
    let f = burnish_eval::fidelity_floor(original, executed, &samples, SAMPLES)
        .context("checking the fidelity floor")?;
    println!("fidelity floor ({} sample(s) of `{}`):", f.samples, f.data);
    for o in &f.outputs {
        let top1 = o
            .metrics
            .top1_agreement
            .map(|t| format!("  top-1 agree {:.2}%", 100.0 * t))
            .unwrap_or_default();
        println!(
            "  {:<32} cos {:.6}{top1}  {}",
            o.name,
            o.metrics.cosine,
            if o.follows { "ok" } else { "BELOW" }
        );
    }
    Ok(Some(f))
}

/// Says on stderr that the quantized model falls below the floor (an error unless
/// `--allow-fidelity-loss`), naming the outputs and what the fallback tried.
pub fn report_below(out: &OptimizeOutput, args: &OptimizeArgs) {
    let Some(f) = out.fidelity_floor.as_ref() else {
        return;
    };
    let worst: Vec<String> = f
        .below()
        .iter()
        .map(|o| {
            let top1 = o
                .metrics
                .top1_agreement
                .map(|t| format!(", top-1 agreement {:.1}%", 100.0 * t))
                .unwrap_or_default();
            format!("`{}` (cosine {:.4}{top1})", o.name, o.metrics.cosine)
        })
        .collect();
    eprintln!(
        "{}: the quantized model falls below the fidelity floor (cosine and top-1 agreement \
         {} against the float model) on {} sample(s) of `{}`: {}{}. Keep more nodes in \
         float (`--sensitivity`, `--exclude-node NODE`), try \
         `--calibration-method percentile:99.99` or `entropy`, or pass \
         `--allow-fidelity-loss` to accept it",
        if args.allow_fidelity_loss {
            "warning"
        } else {
            "error"
        },
        f.min_cosine,
        f.samples,
        f.data,
        worst.join(", "),
        match &out.float_fallback {
            Some(r) if r.rounds.len() > 1 => format!(
                " (the float fallback tried up to {} node(s) in float over {} round(s) \
                 without reaching it)",
                r.rounds
                    .iter()
                    .map(|x| x.float_nodes.len())
                    .max()
                    .unwrap_or(0),
                r.rounds.len() - 1
            ),
            _ => String::new(),
        }
    );
}
