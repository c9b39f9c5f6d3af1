//! The pipeline's steps, in order: variants, fidelity and accuracy, per-op profiles,
//! interleaved measurements, results JSON, report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use burnish_bench::{BenchFile, Environment, LoadGen, Slo, Target, sha256_file};
use burnish_model::TensorData;
use burnish_optimizer::fidelity::seeded_inputs_for;
use burnish_report::{ModelVariant, OpProfile, OpRow, RenderedReport, ReportInput, render};

use crate::config::PipelineConfig;
use crate::error::PipelineError;
use crate::fidelity::{EvalSet, agreement};
use crate::measure::measure;
use crate::target::ModelTarget;
use crate::variants::{self, Variant};

/// Samples of the evaluation data used for the fidelity check.
const FIDELITY_SAMPLES: usize = 256;

/// What a pipeline wrote and concluded.
#[derive(Debug)]
pub struct PipelineOutcome {
    /// `results.json`: the report input (re-render with `burnish report`).
    pub results: PathBuf,
    /// The rendered report.
    pub report: RenderedReport,
    /// The SLO of the server searches.
    pub slo: Slo,
    /// Everything the report was rendered from.
    pub input: ReportInput,
}

/// Runs the pipeline (see the crate docs). `lg` carries the progress reporter; its notes
/// narrate the steps.
pub fn run(cfg: &PipelineConfig, lg: &LoadGen) -> Result<PipelineOutcome, PipelineError> {
    let note = |m: &str| lg.progress().note(m);
    let (base, import_ms) = variants::baseline(&cfg.model)?;
    note(&format!(
        "optimizing {} (level extended)",
        cfg.model.display()
    ));
    let (optimized, record) = variants::optimize(&base, &cfg.model)?;
    let models_dir = cfg.out_dir.join("models");
    let optimized = variants::save("optimized", optimized, &models_dir)?;
    let mut quantized = Vec::with_capacity(cfg.quantize.len());
    for mode in &cfg.quantize {
        note(&format!("quantizing ({mode})"));
        let (model, record) =
            crate::quant::quantize(mode, &optimized.model, cfg.calibration.as_deref())?;
        note(&format!(
            "{mode}: {:.1}% of MACs in int8, {} node(s) left in float",
            100.0 * record.quantized_mac_share,
            record.nodes.iter().filter(|n| !n.quantized).count()
        ));
        quantized.push(variants::save(mode, model, &models_dir)?);
    }
    let mut all = vec![base, optimized];
    all.extend(quantized);

    let mut targets = Vec::with_capacity(all.len());
    let mut cold = Vec::with_capacity(all.len());
    for v in &all {
        let start = Instant::now();
        let t = ModelTarget::new(&v.label, v.model.clone(), cfg.threads, &cfg.shapes)?;
        let mut load_ms = start.elapsed().as_secs_f64() * 1e3;
        if v.label == "baseline" {
            load_ms += import_ms;
        }
        let first = Instant::now();
        t.prepare(1)
            .and_then(|_| t.infer(1))
            .map_err(|e| PipelineError::Target {
                variant: v.label.clone(),
                context: "first inference at batch 1",
                message: e.message,
            })?;
        cold.push(v.cold_start(load_ms, Some(first.elapsed().as_secs_f64() * 1e3)));
        targets.push(t);
    }

    note("checking fidelity and accuracy");
    let eval = match &cfg.eval {
        Some(e) => Some(EvalSet::load(
            &e.path,
            &input_names(&all[0]),
            e.input_key.as_deref(),
            e.labels_key.as_deref(),
        )?),
        None => None,
    };
    let inputs = fidelity_inputs(cfg, &all[0], eval.as_ref())?;
    let reference = run_on(&targets[0], &inputs)?;
    let order: Vec<String> = targets[0]
        .session()
        .output_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    let mut report_variants = Vec::with_capacity(all.len());
    for (v, t) in all.iter().zip(&targets) {
        let fidelity = if v.label == "baseline" {
            None
        } else {
            let got = run_on(t, &inputs)?;
            Some(
                agreement(&order, &reference, &got).map_err(|message| PipelineError::Data {
                    path: v.path.clone(),
                    message: format!("fidelity against the baseline: {message}"),
                })?,
            )
        };
        let accuracy = match &eval {
            Some(e) => Some(e.accuracy(t.session(), 64).map_err(|message| {
                PipelineError::Data {
                    path: cfg
                        .eval
                        .as_ref()
                        .map(|e| e.path.clone())
                        .unwrap_or_default(),
                    message: format!("evaluating `{}`: {message}", v.label),
                }
            })?),
            None => None,
        };
        report_variants.push(ModelVariant {
            label: v.label.clone(),
            run: None,
            model_path: v.path.display().to_string(),
            file_size_bytes: v.file_size_bytes,
            parameter_bytes: v.parameter_bytes(),
            accuracy,
            fidelity,
        });
    }

    note("profiling per op");
    let profiles = targets
        .iter()
        .map(|t| op_profile(t, cfg.plan.profile_runs))
        .collect::<Result<Vec<_>, _>>()?;

    note(&cfg.plan.describe());
    let mut file = BenchFile::new(Some(Environment::detect(burnish_bench::BuildInfo {
        model_sha256: sha256_file(&cfg.model).ok(),
        ..cfg.build.clone()
    })));
    let refs: Vec<&ModelTarget> = targets.iter().collect();
    let mut notes = Vec::new();
    let slo = measure(lg, &refs, &cfg.plan, &mut file, &mut notes)?;
    for n in &notes {
        note(n);
    }
    for run in &mut file.runs {
        if let Some(i) = all.iter().position(|v| v.label == run.target) {
            run.cold_start = Some(cold[i].clone());
        }
    }

    let input = ReportInput {
        title: Some(cfg.title.clone().unwrap_or_else(|| title(cfg, &all))),
        results: vec![file],
        variants: report_variants,
        optimization: Some(record),
        profiles,
        notes,
        ..ReportInput::default()
    };
    let results = cfg.out_dir.join("results.json");
    input.save(&results)?;
    let report = render(&input, &cfg.out_dir)?;
    Ok(PipelineOutcome {
        results,
        report,
        slo,
        input,
    })
}

fn title(cfg: &PipelineConfig, all: &[Variant]) -> String {
    let stem = cfg
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let labels: Vec<&str> = all.iter().map(|v| v.label.as_str()).collect();
    format!("{stem}: {}", labels.join(" vs "))
}

fn input_names(v: &Variant) -> Vec<String> {
    let init = &v.model.graph.initializers;
    v.model
        .graph
        .inputs
        .iter()
        .filter(|i| !init.contains_key(&i.name))
        .map(|i| i.name.clone())
        .collect()
}

fn fidelity_inputs(
    cfg: &PipelineConfig,
    base: &Variant,
    eval: Option<&EvalSet>,
) -> Result<BTreeMap<String, TensorData>, PipelineError> {
    if let Some(path) = &cfg.fidelity_inputs {
        return burnish_model::read_tensors(path)
            .map_err(|e| PipelineError::data(path, e.to_string()));
    }
    if let Some(e) = eval {
        let n = e.labels.len().min(FIDELITY_SAMPLES);
        let path = cfg
            .eval
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default();
        return e.slice(0, n).map_err(|m| PipelineError::data(&path, m));
    }
    seeded_inputs_for(&base.model, &cfg.shapes, cfg.seed).map_err(|source| {
        PipelineError::Optimize {
            path: cfg.model.clone(),
            source: Box::new(source),
        }
    })
}

fn run_on(
    t: &ModelTarget,
    inputs: &BTreeMap<String, TensorData>,
) -> Result<BTreeMap<String, TensorData>, PipelineError> {
    t.session().run(inputs).map_err(PipelineError::runtime(
        t.name(),
        "running the fidelity inputs",
    ))
}

fn op_profile(t: &ModelTarget, runs: usize) -> Result<OpProfile, PipelineError> {
    let values = t.inputs(1).map_err(|e| PipelineError::Target {
        variant: t.name().to_string(),
        context: "preparing profile inputs",
        message: e.message,
    })?;
    let p = burnish_runtime::profile::profile(t.model(), t.session(), &values, runs)
        .map_err(PipelineError::runtime(t.name(), "profiling"))?;
    Ok(OpProfile {
        variant: t.name().to_string(),
        rows: p
            .ops
            .iter()
            .map(|o| OpRow {
                op_type: o.op_type.clone(),
                calls: o.calls as u64,
                self_ms: o.self_ms,
                share: o.share,
                gflops: o.gflops,
            })
            .collect(),
    })
}
