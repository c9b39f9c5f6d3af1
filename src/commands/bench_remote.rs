//! `burnish bench --url`: the bench scenarios against a model on a v2 server.

use std::process::ExitCode;

use burnish_bench::{BarProgress, BenchFile, BuildInfo, Environment, LoadGen};
use burnish_serve::client::{Format, RemoteInputs, RemoteTarget};
use burnish_serve::stats::WindowBreakdown;

use super::load::finish;
use crate::cli::{BenchArgs, TensorFormat};

pub fn run(args: &BenchArgs, url: &str) -> anyhow::Result<ExitCode> {
    let model = args.model.as_deref().unwrap_or_default();
    let data = match &args.load.inputs {
        Some(path) => Some(burnish_model::read_tensors(path)?),
        None => None,
    };
    let format = match args.tensor_format {
        TensorFormat::Binary => Format::Binary,
        TensorFormat::Json => Format::Json,
    };
    let inputs = RemoteInputs {
        data,
        shapes: args.load.dims.shapes.iter().cloned().collect(),
        seed: 0,
    };
    let target = RemoteTarget::connect(url, model, format, inputs)?;
    let lg = LoadGen::new().with_progress(BarProgress::stderr());
    let env = Environment::detect(BuildInfo {
        burnish_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        git_revision: option_env!("BURNISH_GIT_REVISION").map(str::to_string),
        backend: Some(format!("remote v2 {url} ({format:?} tensors)")),
        threads: None,
        model_sha256: None,
    });
    let mut file = BenchFile::new(Some(env));
    let support = |b: usize| target.batch_support(b).map_err(|e| e.to_string());
    let before = target.server_stats();
    super::bench::run_scenarios(args, &lg, &target, &support, &mut file)?;
    if let (Some(b), Some(a)) = (before, target.server_stats()) {
        eprintln!("{}", WindowBreakdown::between(&b, &a));
    }
    finish(&args.load, file)
}
