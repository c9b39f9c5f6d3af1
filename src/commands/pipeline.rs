//! `burnish pipeline`: optimize, measure, check, report (see `burnish_pipeline`).

use std::path::PathBuf;
use std::process::ExitCode;

use burnish_bench::{BarProgress, BuildInfo, LoadGen, Slo};
use burnish_pipeline::{EvalConfig, MeasurePlan, PipelineConfig, VariantKind};

use crate::cli::{PipelineArgs, VariantArg};

/// `--variants` (or, with `--quantize` only, the defaults) plus every `--quantize`, in order,
/// each once; `None`: the defaults.
fn variants(chosen: Option<Vec<VariantArg>>, quantize: &[VariantArg]) -> Option<Vec<VariantKind>> {
    if chosen.is_none() && quantize.is_empty() {
        return None;
    }
    let mut out: Vec<VariantKind> = match chosen {
        Some(v) => v.into_iter().map(Into::into).collect(),
        None => VariantKind::defaults().0,
    };
    for &q in quantize {
        let kind = VariantKind::from(q);
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Some(out)
}

pub fn run(args: PipelineArgs) -> anyhow::Result<ExitCode> {
    let (path, spec) = (args.model.clone(), args.dims.spec());
    if args.inputs.is_some() {
        return run_inner(args);
    }
    super::with_shape_hint(run_inner(args), &path, &spec)
}

fn run_inner(args: PipelineArgs) -> anyhow::Result<ExitCode> {
    let stem = args
        .model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(stem));
    let mut plan = if args.full {
        MeasurePlan::full()
    } else {
        MeasurePlan::quick()
    };
    if let Some(d) = args.run_time {
        plan = plan.with_run_time(d);
    }
    plan.slo = args.slo_p99.map(Slo::p99);
    plan.offline_batches = args.batch.clone();
    plan.concurrency_levels = args.concurrency.clone();
    let mut cfg = PipelineConfig::new(&args.model, out);
    cfg.title = args.title;
    cfg.variants = variants(args.variants, &args.quantize);
    cfg.calibration = args.calibration;
    cfg.time_budget = args.time_budget;
    cfg.eval = args.eval_data.map(|path| EvalConfig {
        path,
        input_key: args.eval_input,
        labels_key: args.eval_labels,
    });
    cfg.inputs = args.inputs;
    cfg.threads = args.threads;
    cfg.shapes = args.dims.spec();
    cfg.plan = plan;
    cfg.build = BuildInfo {
        burnish_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        git_revision: option_env!("BURNISH_GIT_REVISION").map(str::to_string),
        backend: Some("burn-flex (CPU)".into()),
        threads: Some(match args.threads {
            Some(n) => format!("intra_op={n}"),
            None => "intra_op=all".into(),
        }),
        model_sha256: None,
    };
    let lg = LoadGen::new()
        .with_progress(BarProgress::stderr())
        .with_intra_op_threads(args.threads.unwrap_or(0) as u32);
    let outcome = burnish_pipeline::run(&cfg, &lg)?;
    for note in &outcome.report.omitted {
        eprintln!("not drawn: {note}");
    }
    println!("{}", outcome.summary());
    Ok(ExitCode::SUCCESS)
}
