//! What a pipeline is asked to do.

use std::path::PathBuf;
use std::time::Duration;

use burnish_bench::BuildInfo;
use burnish_kernels::Kernel;
use burnish_quant::QuantMode;

use crate::plan::MeasurePlan;

/// A model variant the pipeline can build and measure next to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VariantKind {
    /// The exact graph passes (level extended): same outputs, fewer and fused ops.
    Optimized,
    /// Static int8 on burnish's int8 kernels, calibrated on `--calibration`, else on the
    /// pipeline's input data (without either: dynamic int8).
    Int8,
    /// int8 weights, activations quantized at run time (no calibration).
    DynamicInt8,
    /// float16 weights (half the file; compute stays float32).
    F16,
    /// bfloat16 weights (half the file; compute stays float32).
    Bf16,
    /// 4-bit weight codes for `MatMul`/`Gemm`.
    Int4Weights,
}

impl VariantKind {
    /// Its label in results, charts and file names.
    pub fn label(self) -> &'static str {
        match self {
            Self::Optimized => "optimized",
            Self::Int8 => "int8",
            Self::DynamicInt8 => "dynamic-int8",
            Self::F16 => "f16",
            Self::Bf16 => "bf16",
            Self::Int4Weights => "int4-weights",
        }
    }

    /// The quantization mode behind it (`None` for [`Self::Optimized`]).
    pub fn quant_mode(self) -> Option<QuantMode> {
        match self {
            Self::Optimized => None,
            Self::Int8 => Some(QuantMode::StaticInt8),
            Self::DynamicInt8 => Some(QuantMode::DynamicInt8),
            Self::F16 => Some(QuantMode::F16),
            Self::Bf16 => Some(QuantMode::Bf16),
            Self::Int4Weights => Some(QuantMode::Int4Weights),
        }
    }

    /// What burnish can do on this CPU: the optimized model, and int8 where the CPU has int8
    /// dot-product instructions (AVX-VNNI, AVX-512 VNNI); elsewhere a note says why int8 was
    /// left out and how to ask for it.
    pub fn defaults() -> (Vec<VariantKind>, Option<String>) {
        let kernel = Kernel::best();
        if kernel.has_dot_product() {
            (vec![Self::Optimized, Self::Int8], None)
        } else {
            (
                vec![Self::Optimized],
                Some(format!(
                    "int8 is not measured by default: this CPU's int8 kernel is `{kernel}`, \
                     without int8 dot-product instructions (VNNI), where int8 rarely beats \
                     float; ask for it with `--variants optimized,int8`"
                )),
            )
        }
    }
}

impl std::fmt::Display for VariantKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Settings of one pipeline run.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The ONNX model.
    pub model: PathBuf,
    /// Output folder: `index.html`, run pages, `charts/`, `results.json`, `models/`.
    pub out_dir: PathBuf,
    /// Report title; `None`: derived from the model's file name and the variants.
    pub title: Option<String>,
    /// Variants to build and measure next to the baseline, in order; `None`:
    /// [`VariantKind::defaults`].
    pub variants: Option<Vec<VariantKind>>,
    /// Calibration data (NPZ keyed by input name) for static int8; else [`Self::inputs`].
    pub calibration: Option<PathBuf>,
    /// Labeled data for accuracy (read by [`burnish_eval::load_dataset`]).
    pub eval: Option<EvalConfig>,
    /// Real input data (NPZ keyed by input name, one sample or a batch): it sets the input
    /// shapes, feeds every scenario (batches cycle through its samples), the fidelity check
    /// and, without `calibration`, the static int8 calibration. `None`: the fidelity check
    /// uses the evaluation data or seeded random inputs, the scenarios seeded random inputs.
    pub inputs: Option<PathBuf>,
    /// Intra-op threads per session (`None`: all cores).
    pub threads: Option<usize>,
    /// How synthesized inputs are sized: named dims other than the batch, whole input shapes.
    pub shapes: burnish_model::synth::ShapeSpec,
    /// What to measure and for how long.
    pub plan: MeasurePlan,
    /// Wall time the whole pipeline should fit in; `None`: the plan's own budget
    /// ([`MeasurePlan::budget`]).
    pub time_budget: Option<Duration>,
    /// Facts about the build for the environment fingerprint.
    pub build: BuildInfo,
    /// Seed of the random fidelity inputs.
    pub seed: u64,
}

impl PipelineConfig {
    /// Defaults for `model` written to `out_dir`: the default variants, quick plan.
    pub fn new(model: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            out_dir: out_dir.into(),
            title: None,
            variants: None,
            calibration: None,
            eval: None,
            inputs: None,
            threads: None,
            shapes: Default::default(),
            plan: MeasurePlan::quick(),
            time_budget: None,
            build: BuildInfo::default(),
            seed: 0,
        }
    }
}

/// Labeled evaluation data.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    /// NPZ file with inputs and labels.
    pub path: PathBuf,
    /// Array holding the inputs of a single-input model when it is not named like the input.
    pub input_key: Option<String>,
    /// Array holding the labels (default: one of [`burnish_eval::LABEL_KEYS`]).
    pub labels_key: Option<String>,
}
