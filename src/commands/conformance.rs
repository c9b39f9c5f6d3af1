//! `burnish conformance`.

use std::process::ExitCode;

use burnish_runtime::conformance::{Outcome, case_ops, discover, per_op, run_case};
use serde_json::json;

use crate::cli::ConformanceArgs;

pub fn run(args: ConformanceArgs) -> anyhow::Result<ExitCode> {
    let mut cases = Vec::new();
    for dir in &args.dirs {
        anyhow::ensure!(dir.is_dir(), "`{}` is not a folder", dir.display());
        cases.extend(discover(dir));
    }
    if let Some(f) = &args.filter {
        cases.retain(|c| {
            c.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(f.as_str()))
        });
    }
    let (mut passed, mut failed, mut unsupported) = (0, 0, 0);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for case in &cases {
        let r = run_case(case, args.threads);
        if args.summary {
            results.push((r.clone(), case_ops(case)));
        }
        let (status, detail) = match &r.outcome {
            Outcome::Pass => {
                passed += 1;
                ("pass", String::new())
            }
            Outcome::Fail { reason } => {
                failed += 1;
                ("fail", reason.clone())
            }
            Outcome::Unsupported { ops } => {
                unsupported += 1;
                ("unsupported", ops.join(", "))
            }
        };
        if args.json {
            rows.push(json!({"case": r.name, "status": status, "detail": detail}));
        } else {
            println!("{status:<12} {} {detail}", r.name);
        }
    }
    let summary = args.summary.then(|| per_op(&results));
    if args.json {
        let doc = json!({
            "cases": rows,
            "passed": passed, "failed": failed, "unsupported": unsupported,
            "per_op": summary,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(rows) = &summary {
        println!(
            "{:<36} {:>6} {:>6} {:>6} {:>12}",
            "op", "pass", "fail", "unsup", "pass rate"
        );
        for r in rows {
            let rate = 100.0 * r.passed as f64 / r.total().max(1) as f64;
            println!(
                "{:<36} {:>6} {:>6} {:>6} {:>11.1}%",
                r.op, r.passed, r.failed, r.unsupported, rate
            );
        }
    }
    println!("{passed} passed, {failed} failed, {unsupported} unsupported");
    Ok(ExitCode::SUCCESS)
}
