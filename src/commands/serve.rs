//! `burnish serve`.

use std::process::ExitCode;
use std::time::Duration;

use burnish_serve::{Limits, ModelOptions, ModelSource, ServeConfig, Server};

use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut models: Vec<ModelSource> = args
        .models
        .iter()
        .map(|p| ModelSource::from_path(p))
        .collect();
    models.extend(args.named.iter().map(|(name, path)| ModelSource {
        name: name.clone(),
        path: path.clone(),
    }));
    if let Some(dir) = &args.model_repository {
        models.extend(burnish_serve::repository(dir)?);
    }
    anyhow::ensure!(
        !models.is_empty(),
        "no model to serve: give ONNX files, --name NAME=FILE or --model-repository DIR"
    );
    let mut config = ServeConfig::new(models);
    config.http = args.http;
    config.metrics = args.metrics;
    config.grpc = args.grpc;
    config.limits = Limits {
        max_elements: args.max_elements,
        max_body: args.max_body,
    };
    config.options = ModelOptions {
        instances: args.instances,
        threads: args.threads,
        max_batch: args.max_batch,
        max_queue_delay: args.max_queue_delay.unwrap_or(Duration::ZERO),
        max_queue: args.max_queue,
        queue_timeout: args.queue_timeout,
    };
    let server = Server::start(config)?;
    println!("http {}", server.http_addr());
    if let Some(addr) = server.grpc_addr() {
        println!("grpc {addr}");
    }
    if let Some(addr) = server.metrics_addr() {
        println!("metrics {addr}");
    }
    for (name, model) in server.models() {
        eprintln!("serving `{name}` from `{}`", model.path().display());
    }
    server.run_until_signal()?;
    Ok(ExitCode::SUCCESS)
}
