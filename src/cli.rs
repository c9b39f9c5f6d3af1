//! Command-line flags, as data.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// burnish: make a trained ONNX model cheaper to serve, and prove it with measurements.
#[derive(Debug, Parser)]
#[command(name = "burnish", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe a model: opset, inputs/outputs, op histogram, parameters, MACs, unsupported ops.
    Inspect(InspectArgs),
    /// Run a model on inputs from an NPZ file (or seeded random inputs) and write the outputs.
    Run(RunArgs),
    /// Run ONNX backend-test cases (model.onnx + test_data_set_*/*.pb) and report pass/fail.
    Conformance(ConformanceArgs),
}

/// Values for symbolic dimensions.
#[derive(Debug, Args, Clone, Default)]
pub struct DimArgs {
    /// Value of a symbolic dimension, e.g. `--dim batch=8` (repeatable; unnamed dims use 1).
    #[arg(long = "dim", value_name = "NAME=VALUE", value_parser = parse_dim)]
    pub dims: Vec<(String, usize)>,
}

fn parse_dim(s: &str) -> Result<(String, usize), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let v = value
        .parse()
        .map_err(|_| format!("`{value}` is not a dimension size"))?;
    Ok((name.to_string(), v))
}

/// `burnish inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Symbolic dims for the MAC count.
    #[command(flatten)]
    pub dims: DimArgs,
}

/// `burnish run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Inputs as an NPZ archive keyed by the exact ONNX input names.
    #[arg(long, conflicts_with = "random_inputs")]
    pub inputs: Option<PathBuf>,
    /// Use seeded random inputs instead of `--inputs`.
    #[arg(long)]
    pub random_inputs: bool,
    /// Seed for `--random-inputs`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Symbolic dims for `--random-inputs`.
    #[command(flatten)]
    pub dims: DimArgs,
    /// Where to write the outputs (NPZ keyed by the exact ONNX output names).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also write the inputs used (useful with `--random-inputs`).
    #[arg(long)]
    pub save_inputs: Option<PathBuf>,
    /// Intra-op threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// `burnish conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Case folders, or folders of case folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Only cases whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print JSON instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Intra-op threads.
    #[arg(long)]
    pub threads: Option<usize>,
}
