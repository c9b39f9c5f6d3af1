//! Building the variants a pipeline was asked for (or the defaults for this CPU) from the
//! optimized model, each saved next to the report.

use std::path::Path;

use burnish_model::{Model, Samples};
use burnish_quant::QuantMode;
use burnish_quant::fallback::FallbackRecord;

use crate::config::{PipelineConfig, VariantKind};
use crate::error::PipelineError;
use crate::quant;
use crate::variants::{self, Variant};

/// The float fallback's search may take at most this fraction (1/N) of the time budget.
const FALLBACK_SHARE: u32 = 6;

/// The candidates `cfg.variants` asks for (else [`VariantKind::defaults`]), built from
/// `optimized`. Static int8 calibrates on `--calibration`, else on `data`; without either it
/// becomes dynamic int8. A variant that cannot be built stops the pipeline when it was asked
/// for, else it is left out with a note. `say` narrates; `notes` collects what the report
/// should say.
pub fn candidates(
    cfg: &PipelineConfig,
    optimized: &Model,
    data: Option<&Samples>,
    dir: &Path,
    notes: &mut Vec<String>,
    say: &dyn Fn(&str),
) -> Result<Vec<Variant>, PipelineError> {
    let explicit = cfg.variants.is_some();
    let kinds = match &cfg.variants {
        Some(kinds) => kinds.clone(),
        None => {
            let (kinds, note) = VariantKind::defaults();
            notes.extend(note);
            kinds
        }
    };
    let mut out: Vec<Variant> = Vec::with_capacity(kinds.len());
    let mut calibration = None;
    for kind in kinds {
        let Some(mut mode) = kind.quant_mode() else {
            out.push(variants::save(kind.label(), optimized.clone(), dir)?);
            continue;
        };
        let mut label = kind.label();
        if mode == QuantMode::StaticInt8 {
            if calibration.is_none() {
                calibration = quant::calibration(cfg, data)?;
            }
            if calibration.is_none() {
                mode = QuantMode::DynamicInt8;
                label = VariantKind::DynamicInt8.label();
                notes.push(
                    "no data to calibrate static int8 on (`--inputs` or `--calibration`): \
                     measuring dynamic int8 instead"
                        .into(),
                );
            }
        }
        if out.iter().any(|v| v.label == label) {
            continue;
        }
        say(&format!("quantizing ({label})"));
        let search_limit = cfg
            .time_budget
            .or(cfg.plan.budget)
            .map(|b| b / FALLBACK_SHARE);
        let built = quant::quantize(
            mode,
            optimized,
            calibration.as_ref().map(|c| &c.0),
            data,
            search_limit,
        );
        let (model, record, fallback) = match built {
            Ok(b) => b,
            Err(e) if !explicit => {
                let note = format!("`{label}` left out: {e}");
                say(&note);
                notes.push(note);
                continue;
            }
            Err(e) => return Err(e),
        };
        if mode == QuantMode::StaticInt8
            && let Some((_, note)) = &calibration
        {
            say(note);
            notes.push(note.clone());
        }
        if let Some(note) = fallback.as_ref().and_then(|f| fallback_note(label, f)) {
            say(&note);
            notes.push(note);
        }
        say(&format!(
            "{label}: {:.1}% of MACs quantized, {} node(s) left in float",
            100.0 * record.quantized_mac_share,
            record.nodes.iter().filter(|n| !n.quantized).count()
        ));
        out.push(variants::save(label, model, dir)?);
    }
    Ok(out)
}

/// What the float fallback did, when it ran rounds beyond the full quantization.
fn fallback_note(label: &str, f: &FallbackRecord) -> Option<String> {
    let tried = f.rounds.iter().map(|r| r.float_nodes.len()).max()?;
    if tried == 0 {
        return None;
    }
    Some(if f.met {
        format!(
            "`{label}` fell below the fidelity floor with every node quantized: {} node(s) \
             kept in float restore it ({})",
            f.kept_float.len(),
            f.kept_float.join(", ")
        )
    } else {
        format!(
            "`{label}` stays below the fidelity floor: keeping up to {tried} node(s) in float did \
             not restore it, so every node stays quantized"
        )
    })
}
