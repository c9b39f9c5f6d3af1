//! One function per subcommand; each only orchestrates library calls.

mod bench;
mod compare;
mod conformance;
mod inspect;
mod load;
mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Run(args) => run::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compare(args) => compare::run(args),
    }
}
