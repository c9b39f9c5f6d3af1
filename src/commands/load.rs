//! Shared pieces of `bench` and `compare`: environment fingerprint and output.

use std::path::Path;
use std::process::ExitCode;

use burnish_bench::{BenchFile, BuildInfo, Environment, sha256_file, summary};

use crate::cli::LoadArgs;

/// The environment fingerprint for a run of `model`.
pub fn environment(model: &Path, threads: Option<usize>) -> Environment {
    Environment::detect(BuildInfo {
        burnish_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        git_revision: option_env!("BURNISH_GIT_REVISION").map(str::to_string),
        backend: Some("burn-flex (CPU)".into()),
        threads: Some(match threads {
            Some(n) => format!("intra_op={n}"),
            None => "intra_op=all".into(),
        }),
        model_sha256: sha256_file(model).ok(),
    })
}

/// Prints the summary (or JSON) and saves the file when asked.
pub fn finish(args: &LoadArgs, file: BenchFile) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.output {
        file.save(path)?;
        eprintln!("results written to {}", path.display());
    }
    if args.json {
        println!("{}", file.to_json()?);
    } else {
        println!("{}", summary::render_file(&file));
    }
    Ok(ExitCode::SUCCESS)
}
