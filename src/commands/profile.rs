//! `burnish profile`.

use std::process::ExitCode;

use burnish_model::read_tensors;
use burnish_model::synth::random_inputs_for;
use burnish_runtime::profile::profile;
use burnish_runtime::{Session, SessionOptions};

use crate::cli::ProfileArgs;

pub fn run(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let synthesized = args.inputs.is_none();
    let (path, spec) = (args.model.clone(), args.dims.spec());
    let result = run_inner(args);
    if synthesized {
        return super::with_shape_hint(result, &path, &spec);
    }
    result
}

fn run_inner(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let model = burnish_model::load_onnx(&args.model)?;
    let session = Session::new(&model, SessionOptions::threads(args.threads))?;
    let host = match &args.inputs {
        Some(p) => read_tensors(p)?,
        None => random_inputs_for(&model.graph, &args.dims.spec(), 0)?,
    };
    let values = session.prepare_inputs(&host)?;
    let p = profile(&model, &session, &values, args.runs)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} runs, {:.3} ms of node time per run", p.runs, p.total_ms);
    println!(
        "{:<24} {:>6} {:>10} {:>7} {:>10}",
        "op", "calls", "ms/run", "share", "GFLOP/s"
    );
    for o in &p.ops {
        let gf = o.gflops.map(|g| format!("{g:.1}")).unwrap_or_default();
        println!(
            "{:<24} {:>6} {:>10.3} {:>6.1}% {:>10}",
            o.op_type,
            o.calls,
            o.self_ms,
            o.share * 100.0,
            gf
        );
    }
    println!("\nslowest nodes:");
    for n in p.nodes.iter().take(args.top) {
        println!(
            "  {:<40} {:<20} {:>9.3} ms {:?}",
            n.name, n.op_type, n.mean_ms, n.output_shapes
        );
    }
    Ok(ExitCode::SUCCESS)
}
