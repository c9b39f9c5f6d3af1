//! One function per subcommand; each only orchestrates library calls.

mod bench;
mod bench_remote;
mod codegen;
mod compare;
mod conformance;
mod drift;
mod eval;
mod floor;
mod gate;
mod inspect;
mod load;
mod optimize;
mod pipeline;
mod profile;
mod report;
mod run;
mod serve;

use std::path::Path;
use std::process::ExitCode;

use burnish_model::synth::ShapeSpec;

use crate::cli::{Cli, Command};

/// The error and its causes on one line, each cause once: a cause whose text the message
/// already holds (library errors often embed their source) is not repeated.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut msg = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => " ".to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Names the file an error is about when its message does not already: the data file
/// (`data`) for errors about the inputs it holds (missing, unknown, wrong type or shape),
/// else the model.
fn name_file(err: anyhow::Error, model: &Path, data: Option<&Path>) -> anyhow::Error {
    let about_data = err.chain().any(|c| {
        c.downcast_ref::<burnish_runtime::RuntimeError>()
            .is_some_and(burnish_runtime::RuntimeError::is_about_inputs)
    });
    let file = match (about_data, data) {
        (true, Some(d)) => d,
        _ => model,
    };
    let shown = file.display().to_string();
    if one_line(&err).contains(&shown) {
        return err;
    }
    err.context(format!("`{shown}`"))
}

/// Adds to the error of a command that ran `model` on synthesized inputs which dims were
/// guessed and how to set them (nothing when no dim was guessed).
fn with_shape_hint<T>(
    result: anyhow::Result<T>,
    model: &Path,
    spec: &ShapeSpec,
) -> anyhow::Result<T> {
    result.map_err(|err| {
        let hint = burnish_model::load_onnx(model)
            .ok()
            .and_then(|m| spec.hint(&m.graph));
        match hint {
            Some(h) => anyhow::anyhow!("{}. Hint: {h}", one_line(&err)),
            None => err,
        }
    })
}

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Pipeline(args) => pipeline::run(args),
        Command::Optimize(args) => optimize::run(*args),
        Command::Inspect(args) => inspect::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Run(args) => run::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Report(args) => report::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Codegen(args) => codegen::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
