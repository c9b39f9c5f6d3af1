//! The pipeline's steps, in order: variants, fidelity and accuracy, the plan fitted to the time
//! budget, per-op profiles, interleaved measurements, results JSON, report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use burnish_bench::{BenchFile, Environment, LoadGen, Slo, Target, sha256_file};
use burnish_model::TensorData;
use burnish_report::{ModelVariant, OpProfile, OpRow, RenderedReport, ReportInput, render};

use crate::budget;
use crate::config::PipelineConfig;
use crate::error::PipelineError;
use crate::inputs;
use crate::measure::{Measured, measure};
use crate::variants::{self, Variant};
use burnish_eval::{Agreement, DataSpec, EvalOptions, InputSource, ModelTarget};

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
    let started = Instant::now();
    let budget = cfg.time_budget.or(cfg.plan.budget);
    let say = |m: &str| lg.progress().note(m);
    let mut notes = Vec::new();
    let (base, import_ms) = variants::baseline(&cfg.model)?;
    let data = inputs::load(cfg, &base.model)?;
    let source = match &data {
        Some(d) => InputSource::Data(d.clone()),
        None => InputSource::Synthetic(cfg.shapes.clone()),
    };
    notes.push(match &source {
        InputSource::Data(_) => format!(
            "inputs: {} feed every scenario and the fidelity check",
            source.describe()
        ),
        InputSource::Synthetic(_) => "inputs: seeded random inputs feed every scenario (give \
                                      real data with `--inputs FILE.npz`)"
            .to_string(),
    });
    source
        .batch(&base.model, 0, 1)
        .map_err(|e| PipelineError::Target {
            variant: base.label.clone(),
            context: "sizing the inputs of batch 1",
            message: e.to_string(),
        })?;
    say(&format!(
        "optimizing {} (level extended)",
        cfg.model.display()
    ));
    let (optimized, record) = variants::optimize(&base, &cfg.model)?;
    let models_dir = cfg.out_dir.join("models");
    let candidates = crate::build::candidates(
        cfg,
        &optimized,
        data.as_deref(),
        &models_dir,
        &mut notes,
        &say,
    )?;
    let mut all = vec![base];
    all.extend(candidates);

    let mut targets = Vec::with_capacity(all.len());
    let mut cold = Vec::with_capacity(all.len());
    for v in &all {
        let start = Instant::now();
        let t = ModelTarget::new(&v.label, v.model.clone(), cfg.threads, source.clone())?;
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

    say("checking fidelity and accuracy");
    let report_variants = check(cfg, &all, &targets, data.as_deref())?;

    let latency_s = targets
        .iter()
        .map(|t| {
            budget::latency_s(t).map_err(|e| PipelineError::Target {
                variant: t.name().to_string(),
                context: "timing batch 1",
                message: e.message,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = match budget {
        Some(b) => {
            let (plan, fit_notes) =
                budget::fit(&cfg.plan, &latency_s, b.saturating_sub(started.elapsed()));
            for n in &fit_notes {
                say(n);
            }
            notes.extend(fit_notes);
            plan
        }
        None => cfg.plan.clone(),
    };

    say("profiling per op");
    let profiles = targets
        .iter()
        .map(|t| op_profile(t, plan.profile_runs))
        .collect::<Result<Vec<_>, _>>()?;

    say(&plan.describe());
    let mut file = BenchFile::new(Some(Environment::detect(burnish_bench::BuildInfo {
        model_sha256: sha256_file(&cfg.model).ok(),
        ..cfg.build.clone()
    })));
    let refs: Vec<&ModelTarget> = targets.iter().collect();
    let budget_clock = budget.map(|b| (started, b));
    let measuring = Instant::now();
    let Measured {
        slo,
        notes: found,
        steps,
    } = measure(lg, &refs, &plan, &mut file, &latency_s, budget_clock)?;
    let measured_s = measuring.elapsed().as_secs_f64();
    notes.extend(found);
    for run in &mut file.runs {
        if let Some(i) = all.iter().position(|v| v.label == run.target) {
            run.cold_start = Some(cold[i].clone());
        }
    }
    if let Some(b) = budget {
        let took = started.elapsed();
        if took > b + Duration::from_secs(5) {
            let estimate_s: f64 = steps.iter().map(|s| s.estimate_s).sum();
            notes.push(format!(
                "the pipeline took {}, over its {} budget: {} before measuring, {} measuring \
                 (estimated {}; {})",
                budget::clock(took.as_secs_f64()),
                budget::clock(b.as_secs_f64()),
                budget::clock(took.as_secs_f64() - measured_s),
                budget::clock(measured_s),
                budget::clock(estimate_s),
                crate::tracker::overruns(&steps, 3)
            ));
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

/// Every variant's fidelity against the baseline on the fidelity feeds, and its accuracy on
/// the evaluation data, as report rows.
fn check(
    cfg: &PipelineConfig,
    all: &[Variant],
    targets: &[ModelTarget],
    data: Option<&burnish_model::Samples>,
) -> Result<Vec<ModelVariant>, PipelineError> {
    let eval = match &cfg.eval {
        Some(e) => Some(burnish_eval::load_dataset(
            &all[0].model,
            &DataSpec {
                data: &e.path,
                data_key: e.input_key.as_deref(),
                labels: None,
                labels_key: e.labels_key.as_deref(),
            },
        )?),
        None => None,
    };
    let feeds = inputs::fidelity_feeds(cfg, &all[0].model, data, eval.as_ref())?;
    let reference = feeds
        .iter()
        .map(|f| run_on(&targets[0], f))
        .collect::<Result<Vec<_>, _>>()?;
    let order: Vec<String> = targets[0]
        .session()
        .output_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    let mut rows = Vec::with_capacity(all.len());
    for (v, t) in all.iter().zip(targets) {
        let fidelity = if v.label == "baseline" {
            None
        } else {
            let mut a = Agreement::default();
            for (feed, r) in feeds.iter().zip(&reference) {
                let got = run_on(t, feed)?;
                a.add(&order, r, &got).map_err(|e| PipelineError::Data {
                    path: v.path.clone(),
                    message: format!("fidelity against the baseline: {e}"),
                })?;
            }
            Some(a.summary())
        };
        let accuracy = match &eval {
            Some(e) => Some(accuracy(&v.model, e, cfg.threads).map_err(|message| {
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
        rows.push(ModelVariant {
            label: v.label.clone(),
            run: None,
            model_path: v.path.display().to_string(),
            file_size_bytes: v.file_size_bytes,
            parameter_bytes: v.parameter_bytes(),
            accuracy,
            fidelity,
        });
    }
    Ok(rows)
}

/// Top-1 accuracy of `model` on `data` by the one evaluator ([`burnish_eval::evaluate`]), 64
/// samples per run.
fn accuracy(
    model: &burnish_model::Model,
    data: &burnish_eval::Dataset,
    threads: Option<usize>,
) -> Result<f64, String> {
    let opts = EvalOptions {
        batch: 64,
        threads,
        ..EvalOptions::default()
    };
    burnish_eval::evaluate(model, data, &opts)
        .map(|(e, _)| e.top1)
        .map_err(|e| e.to_string())
}

fn title(cfg: &PipelineConfig, all: &[Variant]) -> String {
    let stem = cfg
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let labels: Vec<&str> = all.iter().map(|v| v.label.as_str()).collect();
    format!("{stem}: {}", labels.join(" vs "))
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
