//! Command-line flags, as data.

use std::path::PathBuf;

use burnish_quant::{ActivationType, QuantMode};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

mod measure;
mod optimize;
mod serve;

use measure::parse_duration;
pub use measure::{BenchArgs, CompareArgs, LoadArgs, Scenario, TensorFormat};
pub use optimize::{AccuracyGateArgs, OptimizeArgs};
pub use serve::ServeArgs;

/// burnish: make a trained ONNX model cheaper to serve, and prove it with measurements.
#[derive(Debug, Parser)]
#[command(name = "burnish", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Largest tensor burnish creates from sizes it reads in a model or data file (`512M`,
    /// `2G`); larger ones are errors. Default: a quarter of the machine's memory, or of the
    /// address-space limit (`ulimit -v`) when smaller.
    #[arg(long, global = true, value_name = "SIZE", value_parser = burnish_model::limits::parse_size)]
    pub max_memory: Option<usize>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: optimize, measure every variant under load, check fidelity, write the report.
    Pipeline(PipelineArgs),
    /// Optimize a model with exact graph passes and check that its outputs are unchanged.
    Optimize(Box<OptimizeArgs>),
    /// Describe a model: opset, inputs/outputs, op histogram, parameters, MACs, unsupported ops.
    Inspect(InspectArgs),
    /// Top-1 / top-k accuracy of a classifier on labeled data.
    Eval(EvalArgs),
    /// Run a model on inputs from an NPZ file (or seeded random inputs) and write the outputs.
    Run(RunArgs),
    /// Run ONNX backend-test cases (model.onnx + test_data_set_*/*.pb) and report pass/fail.
    Conformance(ConformanceArgs),
    /// Measure latency and throughput under load (MLPerf LoadGen scenarios).
    Bench(BenchArgs),
    /// Compare a baseline and a candidate model in interleaved rounds, or gate a regression.
    Compare(CompareArgs),
    /// Time every node and op type (where the time goes; not for A/B verdicts).
    Profile(ProfileArgs),
    /// Render saved results JSON into a self-contained HTML report.
    Report(ReportArgs),
    /// Measure drift between a reference data set and current data (PSI, KS, Wasserstein).
    Drift(DriftArgs),
    /// Write a cargo crate that compiles the model into Rust with burn-onnx (Burn's deployment path).
    Codegen(CodegenArgs),
    /// Serve models over the Open Inference Protocol v2 (KServe v2 / Triton REST).
    Serve(ServeArgs),
}

/// `burnish codegen`.
#[derive(Debug, Args)]
pub struct CodegenArgs {
    /// The ONNX model (typically the output of `burnish optimize`).
    pub model: PathBuf,
    /// Folder of the generated crate.
    #[arg(long)]
    pub out: PathBuf,
    /// Package name (default: the model's file stem plus `-compiled`).
    #[arg(long)]
    pub name: Option<String>,
    /// Add `benches/compare.rs`: the burnish interpreter against the compiled model (path
    /// dev-dependencies on this burnish checkout's crates).
    #[arg(long)]
    pub bench_interpreter: bool,
}

/// `burnish pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Real input data (NPZ keyed by input name; one sample or a batch): sets the input
    /// shapes, feeds every scenario (batches cycle through its samples) and the fidelity
    /// check, and calibrates static int8 when `--calibration` is not given.
    #[arg(long, value_name = "FILE.npz")]
    pub inputs: Option<PathBuf>,
    /// Variants to build and measure next to the baseline, e.g. `optimized,int8,f16`
    /// (default: `optimized`, plus `int8` where the CPU has int8 dot-product instructions).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "VARIANT")]
    pub variants: Option<Vec<VariantArg>>,
    /// Also measure a quantized variant (repeatable), on top of `--variants` or the defaults.
    #[arg(long, value_enum, value_name = "MODE")]
    pub quantize: Vec<VariantArg>,
    /// Calibration data (NPZ keyed by input name) for static int8; default: `--inputs`.
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Labeled data (NPZ) for each variant's top-1 accuracy.
    #[arg(long)]
    pub eval_data: Option<PathBuf>,
    /// Array of `--eval-data` holding the inputs (default: the input's name, or the only
    /// non-label array).
    #[arg(long)]
    pub eval_input: Option<String>,
    /// Array of `--eval-data` holding the labels (default: `y`, `labels`, `label` or `target`).
    #[arg(long)]
    pub eval_labels: Option<String>,
    /// Output folder (default `reports/<model name>`).
    #[arg(long = "out", short = 'o', visible_alias = "output")]
    pub out: Option<PathBuf>,
    /// Report title.
    #[arg(long)]
    pub title: Option<String>,
    /// LoadGen-grade durations (600 s per run) instead of the quick ones (about a minute).
    #[arg(long)]
    pub full: bool,
    /// Wall time the whole pipeline should fit in, e.g. `3m` or `90s` (run durations shrink
    /// to fit; default 3m for the quick profile, none with `--full`).
    #[arg(long, value_parser = parse_duration)]
    pub time_budget: Option<std::time::Duration>,
    /// Minimum duration of every run, e.g. `200ms` (overrides the quick/full default).
    #[arg(long, value_parser = parse_duration)]
    pub run_time: Option<std::time::Duration>,
    /// Server SLO (p99) for the max-QPS search; default: 4x the baseline's single-stream p99.
    #[arg(long, value_parser = parse_duration)]
    pub slo_p99: Option<std::time::Duration>,
    /// Batch sizes of the offline sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub batch: Vec<usize>,
    /// Outstanding queries of the concurrency sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pub concurrency: Vec<usize>,
    /// Intra-op threads per session (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Symbolic dims other than the batch (e.g. `--dim seq=128`).
    #[command(flatten)]
    pub dims: DimArgs,
}

/// A variant `burnish pipeline` can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VariantArg {
    /// Exact graph passes (level extended).
    Optimized,
    /// Static int8 on burnish's int8 kernels (calibrated on `--calibration`, else `--inputs`).
    #[value(alias = "static-int8")]
    Int8,
    /// int8 weights, activations quantized at run time.
    DynamicInt8,
    /// float16 weights.
    #[value(alias = "fp16")]
    F16,
    /// bfloat16 weights.
    Bf16,
    /// 4-bit weights for MatMul/Gemm.
    #[value(alias = "int4")]
    Int4Weights,
}

impl From<VariantArg> for burnish_pipeline::VariantKind {
    fn from(v: VariantArg) -> Self {
        match v {
            VariantArg::Optimized => Self::Optimized,
            VariantArg::Int8 => Self::Int8,
            VariantArg::DynamicInt8 => Self::DynamicInt8,
            VariantArg::F16 => Self::F16,
            VariantArg::Bf16 => Self::Bf16,
            VariantArg::Int4Weights => Self::Int4Weights,
        }
    }
}

/// `burnish eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The ONNX model (a classifier: one output row of class scores per sample).
    pub model: PathBuf,
    /// Inputs: `.npy` (the model's only input) or `.npz` (arrays named like the inputs, or
    /// `--data-key`), first dimension = samples.
    #[arg(long)]
    pub data: PathBuf,
    /// Array of `--data` feeding the model's input.
    #[arg(long)]
    pub data_key: Option<String>,
    /// Labels (class indices, `[N]`): `.npy` or `.npz`; default: an array of `--data`
    /// (`y`, `labels`, `label` or `target`).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Array holding the labels.
    #[arg(long)]
    pub labels_key: Option<String>,
    /// `k` of the top-k accuracy.
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    /// Samples per run (a fixed batch dimension in the model wins).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// The output holding the class scores (default: the first).
    #[arg(long = "output-name")]
    pub output_name: Option<String>,
    /// Intra-op threads.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write the JSON result here (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// `burnish report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results files (`bench`/`compare` JSON, or saved report inputs), merged in order.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Output folder (`index.html` and one page per run).
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `burnish drift`.
#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Reference data (NPZ keyed by input name; first dim = samples).
    #[arg(long)]
    pub reference: PathBuf,
    /// Current data, same keys.
    #[arg(long)]
    pub current: PathBuf,
    /// A model to compare prediction (top-1) distributions with; for a static-int8 (QDQ)
    /// model also the clip rate of every quantized activation (stale calibration ranges).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the JSON report here (atomically).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `burnish profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Inputs (NPZ); seeded random inputs when absent.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Symbolic dims for random inputs.
    #[command(flatten)]
    pub dims: DimArgs,
    /// Runs to average.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// Intra-op threads.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Nodes to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How synthesized inputs are sized: named dimensions and whole input shapes.
#[derive(Debug, Args, Clone, Default)]
pub struct DimArgs {
    /// Value of a named symbolic dimension, e.g. `--dim batch=8` or `--dim seq=128`
    /// (repeatable; named dims left unset use 1).
    #[arg(long = "dim", value_name = "NAME=VALUE", value_parser = parse_dim)]
    pub dims: Vec<(String, usize)>,
    /// Whole shape of an input, e.g. `--shape x=1x3x48x320` (repeatable): sets unnamed dims,
    /// which burnish cannot choose on its own.
    #[arg(long = "shape", value_name = "INPUT=DIMS", value_parser = parse_shape_arg)]
    pub shapes: Vec<(String, Vec<usize>)>,
}

impl DimArgs {
    /// The sizing these flags ask for.
    pub fn spec(&self) -> burnish_model::synth::ShapeSpec {
        burnish_model::synth::ShapeSpec {
            dims: self.dims.iter().cloned().collect(),
            shapes: self.shapes.iter().cloned().collect(),
        }
    }
}

fn parse_shape_arg(s: &str) -> Result<(String, Vec<usize>), String> {
    let (name, dims) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not INPUT=DIMS (e.g. x=1x3x224x224)"))?;
    let dims = burnish_model::synth::parse_shape(dims).map_err(|e| e.to_string())?;
    Ok((name.to_string(), dims))
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
    /// Why is it not faster: the CPU's int8 kernels, the share of MACs in int8, the
    /// quantize/dequantize boundaries.
    #[arg(long)]
    pub quant: bool,
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
    /// Also print the pass rate per op type (each case counts for every op its model uses).
    #[arg(long)]
    pub summary: bool,
}

/// A flag whose value is one of `names` (listed by `--help`), parsed into the library's type by
/// its `FromStr`, so a bad value fails before any model loads.
pub(crate) fn choice<T>(
    names: impl IntoIterator<Item = impl Into<PossibleValue>>,
) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    PossibleValuesParser::new(names).try_map(|s| s.parse::<T>().map_err(|e| e.to_string()))
}

/// `--quantize` of `burnish optimize`, with the spellings the library also accepts as aliases.
pub(crate) fn quant_modes() -> impl TypedValueParser<Value = QuantMode> {
    choice([
        PossibleValue::new("static-int8"),
        PossibleValue::new("dynamic-int8"),
        PossibleValue::new("int4-weights").alias("int4"),
        PossibleValue::new("f16").alias("fp16"),
        PossibleValue::new("bf16"),
    ])
}

/// `--activation-type`, with the aliases the library accepts.
pub(crate) fn activation_types() -> impl TypedValueParser<Value = ActivationType> {
    choice([
        PossibleValue::new("u8").alias("uint8"),
        PossibleValue::new("s8").aliases(["i8", "int8"]),
    ])
}

/// A flag parsed by the library type's `FromStr` (for values with parameters, such as
/// `percentile:99.99`).
pub(crate) fn parsed<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| e.to_string())
}
