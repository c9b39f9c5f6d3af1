//! One function per subcommand; each only orchestrates library calls.

mod conformance;
mod inspect;
mod run;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Run(args) => run::run(args),
        Command::Conformance(args) => conformance::run(args),
    }
}
