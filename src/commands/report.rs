//! `burnish report`.

use std::process::ExitCode;

use burnish_report::{ReportInput, render};

use crate::cli::ReportArgs;

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let input = ReportInput::load_all(&args.results)?;
    let out = render(&input, &args.output)?;
    for note in &out.omitted {
        eprintln!("not drawn: {note}");
    }
    println!("report: {}", out.index.display());
    Ok(ExitCode::SUCCESS)
}
