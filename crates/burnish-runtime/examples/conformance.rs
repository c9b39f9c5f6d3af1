//! A fast inner loop for op work: runs backend-test case folders with only this crate built.
//!
//! `cargo run -p burnish-runtime --example conformance -- DIR [FILTER]`: every case under `DIR`
//! whose name contains `FILTER`, one line each, then the totals. `burnish conformance` is the
//! command users run; this example exists so a change to an op rebuilds one crate, not the CLI.

use std::path::PathBuf;

use burnish_runtime::conformance::{Outcome, discover, run_case};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: conformance DIR [FILTER]");
        std::process::exit(2);
    };
    let filter = args.next().unwrap_or_default();
    let (mut pass, mut fail, mut unsupported) = (0, 0, 0);
    for case in discover(&dir) {
        let name = case.file_name().map(|n| n.to_string_lossy().into_owned());
        if !name.is_some_and(|n| n.contains(&filter)) {
            continue;
        }
        let r = run_case(&case, Some(1));
        match &r.outcome {
            Outcome::Pass => pass += 1,
            Outcome::Fail { reason } => {
                fail += 1;
                println!("fail         {} {reason}", r.name);
            }
            Outcome::Unsupported { ops } => {
                unsupported += 1;
                println!("unsupported  {} {}", r.name, ops.join(", "));
            }
        }
    }
    println!("{pass} passed, {fail} failed, {unsupported} unsupported");
}
