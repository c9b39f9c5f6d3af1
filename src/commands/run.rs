//! `burnish run`.

use std::process::ExitCode;

use burnish_model::synth::random_inputs_for;
use burnish_model::{read_tensors, write_npz};
use burnish_runtime::{Session, SessionOptions};

use crate::cli::RunArgs;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let synthesized = args.inputs.is_none();
    let (path, spec) = (args.model.clone(), args.dims.spec());
    let data = args.inputs.clone();
    let result = run_inner(args).map_err(|e| super::name_file(e, &path, data.as_deref()));
    if synthesized {
        return super::with_shape_hint(result, &path, &spec);
    }
    result
}

fn run_inner(args: RunArgs) -> anyhow::Result<ExitCode> {
    let model = burnish_model::load_onnx(&args.model)?;
    let inputs = match (&args.inputs, args.random_inputs) {
        (Some(path), _) => read_tensors(path)?,
        (None, true) => random_inputs_for(&model.graph, &args.dims.spec(), args.seed)?,
        (None, false) => anyhow::bail!("give `--inputs FILE.npz` or `--random-inputs`"),
    };
    let session = Session::new(&model, SessionOptions::threads(args.threads))?;
    let outputs = session.run(&inputs)?;
    if let Some(path) = &args.save_inputs {
        write_npz(path, inputs.iter().map(|(k, v)| (k.as_str(), v)))?;
    }
    match &args.output {
        Some(path) => {
            write_npz(path, outputs.iter().map(|(k, v)| (k.as_str(), v)))?;
            eprintln!("wrote {} output(s) to {}", outputs.len(), path.display());
        }
        None => {
            for (name, t) in &outputs {
                let head: Vec<String> = t
                    .to_f64_vec()
                    .unwrap_or_default()
                    .iter()
                    .take(6)
                    .map(|v| format!("{v:.6}"))
                    .collect();
                println!(
                    "{name} {} {:?} [{} ...]",
                    t.dtype(),
                    t.shape,
                    head.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
