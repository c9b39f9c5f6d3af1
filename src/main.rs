//! The `burnish` command line: a thin layer over the library crates.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Some(bytes) = cli.max_memory {
        burnish_model::limits::set_max_tensor_bytes(bytes);
    }
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", commands::one_line(&err));
            ExitCode::from(2)
        }
    }
}
