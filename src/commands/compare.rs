//! `burnish compare`: interleaved A/B rounds, or a regression gate against saved results.

use std::process::ExitCode;

use burnish_bench::{
    BarProgress, BenchFile, CompareConfig, LoadGen, Profile, RegressionStatus, SingleStreamConfig,
    Target, regression_check,
};
use burnish_eval::ModelTarget;

use super::load::{environment, finish};
use crate::cli::CompareArgs;

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let (path, spec) = (args.models.first().cloned(), args.load.dims.spec());
    let synthetic = args.load.inputs.is_none();
    let result = run_inner(args);
    match path {
        Some(path) if synthetic => super::with_shape_hint(result, &path, &spec),
        _ => result,
    }
}

fn run_inner(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let shapes = args.load.dims.spec();
    let data = args.load.inputs.as_deref();
    let threads = args.load.threads;
    let lg = LoadGen::new()
        .with_progress(BarProgress::stderr())
        .with_intra_op_threads(threads.unwrap_or(0) as u32);

    if let Some(saved_path) = &args.baseline {
        anyhow::ensure!(
            args.models.len() == 1,
            "with `--baseline`, give only the candidate model"
        );
        let saved_file = BenchFile::load(saved_path)?;
        let saved = saved_file
            .runs
            .first()
            .ok_or_else(|| anyhow::anyhow!("`{}` holds no run", saved_path.display()))?;
        let (candidate, candidate_cold) =
            ModelTarget::load(&args.models[0], threads, &shapes, data)?;
        let profile = if args.load.full {
            Profile::Full
        } else {
            Profile::Quick
        };
        let new = lg
            .single_stream(
                &candidate as &dyn Target,
                &SingleStreamConfig::profile(profile),
            )?
            .with_cold_start(candidate_cold);
        let threshold = args.fail_on_regression.unwrap_or(5.0);
        let report = regression_check(saved, &new, threshold)?;
        let regressed = report.status == RegressionStatus::Regressed;
        eprintln!("{}", report.reason);
        let mut file = BenchFile::new(Some(environment(&args.models[0], threads)));
        file.runs = vec![saved.clone(), new];
        file.regressions.push(report);
        finish(&args.load, file)?;
        let fail = regressed && args.fail_on_regression.is_some();
        return Ok(if fail {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }

    anyhow::ensure!(
        args.models.len() == 2,
        "give BASE.onnx and CANDIDATE.onnx (or `--baseline saved.json`)"
    );
    let (base, base_cold) = ModelTarget::load(&args.models[0], threads, &shapes, data)?;
    let (cand, cand_cold) = ModelTarget::load(&args.models[1], threads, &shapes, data)?;
    let cfg = CompareConfig {
        rounds: args.rounds.max(2),
        ..CompareConfig::default()
    };
    let outcome = lg.compare(&base, &cand, &cfg)?;
    let mut file = BenchFile::new(Some(environment(&args.models[1], threads)));
    let slower = outcome.comparison.verdict == burnish_bench::Verdict::Slower;
    file.runs = vec![
        outcome.baseline.with_cold_start(base_cold),
        outcome.candidate.with_cold_start(cand_cold),
    ];
    file.comparisons.push(outcome.comparison);
    finish(&args.load, file)?;
    let fail = slower && args.fail_on_regression.is_some();
    Ok(if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
