//! One function per subcommand; each only orchestrates library calls.

mod bench;
mod codegen;
mod compare;
mod conformance;
mod drift;
mod eval;
mod gate;
mod inspect;
mod load;
mod optimize;
mod pipeline;
mod profile;
mod report;
mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

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
    }
}
