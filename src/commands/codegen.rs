//! `burnish codegen`.

use std::process::ExitCode;

use anyhow::Context;
use burnish_codegen::{CodegenOptions, generate};
use burnish_model::{encode_onnx, load_onnx};
use burnish_optimizer::lower_for_export;

use crate::cli::CodegenArgs;

pub fn run(args: CodegenArgs) -> anyhow::Result<ExitCode> {
    let model = load_onnx(&args.model)?;
    let fused = model
        .graph
        .nodes
        .iter()
        .any(burnish_model::domain::is_burnish);
    let (model, bytes) = if fused {
        let lowered = lower_for_export(&model, false);
        let bytes = encode_onnx(&lowered)?;
        (lowered, bytes)
    } else {
        let bytes = std::fs::read(&args.model)
            .with_context(|| format!("reading `{}`", args.model.display()))?;
        (model, bytes)
    };
    let bench_against = args
        .bench_interpreter
        .then(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let options = CodegenOptions {
        crate_name: args.name,
        bench_against,
    };
    let out = generate(&model, &bytes, &args.model, &args.out, &options)?;
    println!(
        "wrote crate `{}` to {} ({} files{})",
        out.crate_name,
        out.dir.display(),
        out.files.len(),
        if fused {
            "; burnish fused ops lowered to standard ONNX"
        } else {
            ""
        }
    );
    println!(
        "build it: cd {} && cargo build --release",
        out.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
