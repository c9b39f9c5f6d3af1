//! `burnish bench`.

use std::process::ExitCode;
use std::sync::Arc;

use burnish_bench::{
    BarProgress, BenchFile, ConcurrencyConfig, LoadGen, MaxQpsConfig, ModelLoad, OfflineConfig,
    Profile, ScenarioConfig, ServerConfig, SingleStreamConfig, Slo, Target, summary,
};
use burnish_eval::ModelTarget;

use super::load::{environment, finish};
use crate::cli::{BenchArgs, Scenario};

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let (path, spec) = (args.models.first().cloned(), args.load.dims.spec());
    let synthetic = args.load.inputs.is_none();
    let result = run_inner(args);
    match path {
        Some(path) if synthetic => super::with_shape_hint(result, &path, &spec),
        _ => result,
    }
}

fn run_inner(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.url {
        return super::bench_remote::run(&args, url);
    }
    let shapes = args.load.dims.spec();
    let threads = args.load.threads;
    let targets = args
        .models
        .iter()
        .map(|m| {
            let (target, cold) =
                ModelTarget::load(m, threads, &shapes, args.load.inputs.as_deref())?;
            Ok((Arc::new(target), cold))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let lg = LoadGen::new()
        .with_progress(BarProgress::stderr())
        .with_intra_op_threads(threads.unwrap_or(0) as u32);
    let mut file = BenchFile::new(Some(environment(&args.models[0], threads)));
    if targets.len() > 1 {
        let (profile, server) = (profile_of(&args), server_config(&args));
        let first = args
            .scenario
            .first()
            .copied()
            .unwrap_or(Scenario::SingleStream);
        let loads: Vec<ModelLoad> = targets
            .iter()
            .map(|(t, _)| ModelLoad {
                label: t.name().to_string(),
                target: t.clone() as Arc<dyn Target>,
                scenario: match first {
                    Scenario::Server => ScenarioConfig::Server(server.clone()),
                    _ => ScenarioConfig::SingleStream(SingleStreamConfig::profile(profile)),
                },
            })
            .collect();
        file.multi_model.push(lg.multi_model(&loads)?);
        return finish(&args.load, file);
    }

    let (target, cold_start) = &targets[0];
    let support = |b: usize| target.batch_support(b).map_err(|e| e.to_string());
    run_scenarios(&args, &lg, target.as_ref(), &support, &mut file)?;
    file.runs = std::mem::take(&mut file.runs)
        .into_iter()
        .map(|r| r.with_cold_start(cold_start.clone()))
        .collect();
    finish(&args.load, file)
}

fn profile_of(args: &BenchArgs) -> Profile {
    if args.load.full {
        Profile::Full
    } else {
        Profile::Quick
    }
}

fn server_config(args: &BenchArgs) -> ServerConfig {
    ServerConfig::profile(profile_of(args), args.qps)
        .with_sessions(args.sessions)
        .with_slo(Slo::p99(args.slo_p99))
}

/// Runs `args`' scenarios (default single-stream) on one target; `support` says whether it
/// takes a batch size (offline skips the others).
pub(super) fn run_scenarios(
    args: &BenchArgs,
    lg: &LoadGen,
    t: &dyn Target,
    support: &dyn Fn(usize) -> Result<(), String>,
    file: &mut BenchFile,
) -> anyhow::Result<()> {
    let (profile, server) = (profile_of(args), server_config(args));
    let slo = Slo::p99(args.slo_p99);
    let scenarios = if args.scenario.is_empty() {
        vec![Scenario::SingleStream]
    } else {
        args.scenario.clone()
    };
    for scenario in scenarios {
        match scenario {
            Scenario::SingleStream => file
                .runs
                .push(lg.single_stream(t, &SingleStreamConfig::profile(profile))?),
            Scenario::Offline => {
                let mut batches = args.batch.clone();
                batches.retain(|&b| match support(b) {
                    Ok(()) => true,
                    Err(reason) => {
                        eprintln!("offline batch {b} skipped: {reason}");
                        false
                    }
                });
                anyhow::ensure!(
                    !batches.is_empty(),
                    "no batch size of --batch fits the model"
                );
                file.runs.extend(
                    lg.offline(t, &OfflineConfig::profile(profile, args.sessions, batches))?,
                )
            }
            Scenario::Concurrency => file.runs.extend(lg.concurrency_sweep(
                t,
                &ConcurrencyConfig::profile(profile, args.concurrency.clone()),
            )?),
            Scenario::Server if args.find_max_qps => file
                .max_qps
                .push(lg.find_max_qps(t, &MaxQpsConfig::new(server.clone(), slo))?),
            Scenario::Server => file.runs.push(lg.server(t, &server)?),
        }
    }
    if !args.load.json && file.runs.is_empty() && !file.max_qps.is_empty() {
        eprintln!("{}", summary::render_file(file));
    }
    Ok(())
}
