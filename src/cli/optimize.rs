//! `burnish optimize`'s arguments: the exact passes, quantization and its accuracy gate.

use std::path::PathBuf;

use burnish_accuracy::{DropKind, Sensitivity};
use burnish_optimizer::Level;
use burnish_quant::{ActivationType, QuantMode, RangeMethod, WeightBits};
use clap::Args;

use super::measure::parse_duration;
use super::{DimArgs, activation_types, choice, parsed, quant_modes};

/// `burnish optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Where to write the optimized model (`OUT.json` record is written next to it).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Optimization level: `basic` (exact cleanups) or `extended` (plus exact fusions).
    #[arg(long, default_value = "extended", value_parser = choice::<Level>(["basic", "extended"]))]
    pub level: Level,
    /// Check graph consistency after every pass.
    #[arg(long)]
    pub verify: bool,
    /// Skip a pass (repeatable).
    #[arg(long)]
    pub disable: Vec<String>,
    /// Run only these passes (repeatable).
    #[arg(long)]
    pub only: Vec<String>,
    /// Print the graph after this pass (repeatable).
    #[arg(long)]
    pub dump_after: Vec<String>,
    /// Inputs (NPZ) for the fidelity check; seeded random inputs when absent.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Sizes of the random fidelity inputs.
    #[command(flatten)]
    pub dims: DimArgs,
    /// Seed of the random fidelity inputs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Keep fused ops in the `burnish` domain instead of decomposing them to standard ops
    /// (with `--quantize`: write the int8 ops burnish executes instead of standard QDQ).
    #[arg(long)]
    pub keep_fused: bool,
    /// Quantize after optimizing: `static-int8`, `dynamic-int8`, `int4-weights`, `f16`, `bf16`.
    #[arg(long, value_name = "MODE", value_parser = quant_modes())]
    pub quantize: Option<QuantMode>,
    /// Calibration samples for `static-int8` (NPZ keyed by input name, samples on axis 0).
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Accept a quantized model below the fidelity floor (cosine or top-1 agreement under
    /// 0.99 against the float model on `--inputs` or the calibration data) instead of exiting
    /// with status 1.
    #[arg(long)]
    pub allow_fidelity_loss: bool,
    /// Do not keep nodes in float automatically when the quantized model falls below the
    /// fidelity floor (by default the nodes that add the most error stay float, a few more
    /// each round, until the floor holds).
    #[arg(long)]
    pub no_float_fallback: bool,
    /// Activation range method: `minmax`, `percentile:99.99`, `entropy` (KL) or `mse`.
    #[arg(long, default_value = "minmax", value_parser = parsed::<RangeMethod>)]
    pub calibration_method: RangeMethod,
    /// One weight scale per tensor instead of per output channel.
    #[arg(long)]
    pub per_tensor: bool,
    /// Element type of static int8 activations: `u8` or `s8`.
    #[arg(long, default_value = "u8", value_parser = activation_types())]
    pub activation_type: ActivationType,
    /// Bits of int8 weight codes: `auto` (7 for `Conv` where the int8 kernels are AVX2 without
    /// VNNI, faster there; 8 elsewhere), `8`, `7` (every int8 weight), or `6` (6 bits for
    /// `MatMul`/`Gemm`, whose AVX2 GEMM is faster again, 7 for `Conv`; costs accuracy).
    #[arg(long, default_value = "auto", value_parser = choice::<WeightBits>(["auto", "8", "7", "6"]))]
    pub weight_bits: WeightBits,
    /// Keep this node in float when quantizing (repeatable).
    #[arg(long, value_name = "NODE")]
    pub exclude_node: Vec<String>,
    /// Block size of `int4-weights` (32 or 128 are the usual choices).
    #[arg(long, default_value_t = 32)]
    pub block_size: usize,
    /// `f16`/`bf16`: compute in the half type too, not only store the weights in it (for
    /// backends with native half-precision kernels; slow on the CPU backend).
    #[arg(long)]
    pub half_compute: bool,
    /// The runtime the `static-int8` QDQ layout targets: `onnxruntime` (a standard QDQ
    /// consumer: the ops it runs on int8 get Q/DQ too) or `burnish` (Q/DQ only around
    /// Conv/MatMul/Gemm, for burnish's int8 ops). Default: `burnish` with `--keep-fused`,
    /// `onnxruntime` otherwise.
    #[arg(long, value_enum, value_name = "RUNTIME")]
    pub qdq_target: Option<QdqTargetArg>,
    /// Raise the model's default-domain opset to this version first, rewriting the ops whose
    /// form changed (refused, naming the node, where no conversion is known).
    #[arg(long, value_name = "N")]
    pub opset: Option<i64>,
    /// Accuracy gate and "why is it not faster" settings.
    #[command(flatten)]
    pub gate: AccuracyGateArgs,
}

/// `--qdq-target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QdqTargetArg {
    /// onnxruntime and other standard QDQ consumers.
    Onnxruntime,
    /// burnish's int8 ops.
    Burnish,
}

impl From<QdqTargetArg> for burnish_quant::QdqTarget {
    fn from(t: QdqTargetArg) -> Self {
        match t {
            QdqTargetArg::Onnxruntime => burnish_quant::QdqTarget::Onnxruntime,
            QdqTargetArg::Burnish => burnish_quant::QdqTarget::Burnish,
        }
    }
}

/// The accuracy gate of `burnish optimize --quantize`, and its speed diagnostics.
#[derive(Debug, Args, Clone)]
pub struct AccuracyGateArgs {
    /// Largest accepted top-1 accuracy drop, e.g. `0.5%` (needs `--eval-data`): the most
    /// sensitive nodes stay in float until it holds.
    #[arg(long, value_name = "DROP")]
    pub max_accuracy_drop: Option<String>,
    /// Whether the drop is absolute (`abs`, percentage points) or relative (`rel`).
    #[arg(long, default_value = "abs", value_parser = choice::<DropKind>(["abs", "rel"]))]
    pub accuracy_drop_kind: DropKind,
    /// Labeled evaluation data (`.npy`/`.npz`, samples on axis 0).
    #[arg(long)]
    pub eval_data: Option<PathBuf>,
    /// Array of `--eval-data` feeding the model input (default: the input's name, or the only
    /// non-label array).
    #[arg(long)]
    pub eval_data_key: Option<String>,
    /// Labels file (default: an array `y`/`labels`/`label`/`target` of `--eval-data`).
    #[arg(long)]
    pub eval_labels: Option<PathBuf>,
    /// Array holding the labels.
    #[arg(long)]
    pub eval_labels_key: Option<String>,
    /// Sensitivity ranking: `leave-one-out` (all but the node quantized) or `only-one`.
    #[arg(long, default_value = "leave-one-out", value_parser = choice::<Sensitivity>(["leave-one-out", "only-one"]))]
    pub sensitivity: Sensitivity,
    /// Most quantize-and-evaluate trials of the gate.
    #[arg(long)]
    pub gate_trials: Option<usize>,
    /// Wall-time limit of the gate, e.g. `120s`.
    #[arg(long, value_parser = parse_duration)]
    pub gate_time: Option<std::time::Duration>,
    /// Also profile the float and the quantized model per op type (why is it not faster).
    #[arg(long)]
    pub profile: bool,
    /// Timed runs per model for `--profile`.
    #[arg(long, default_value_t = 20)]
    pub profile_runs: usize,
}
