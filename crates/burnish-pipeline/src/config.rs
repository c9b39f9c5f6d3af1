//! What a pipeline is asked to do.

use std::path::PathBuf;

use burnish_bench::BuildInfo;

use crate::plan::MeasurePlan;

/// Settings of one pipeline run.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// The ONNX model.
    pub model: PathBuf,
    /// Output folder: `index.html`, run pages, `charts/`, `results.json`, `models/`.
    pub out_dir: PathBuf,
    /// Report title; `None`: derived from the model's file name and the variants.
    pub title: Option<String>,
    /// Quantization modes, one variant each (e.g. `static-int8`).
    pub quantize: Vec<String>,
    /// Calibration data (NPZ keyed by input name) for static quantization.
    pub calibration: Option<PathBuf>,
    /// Labeled data for accuracy (see [`crate::fidelity::EvalSet::load`]).
    pub eval: Option<EvalConfig>,
    /// Inputs (NPZ) for the fidelity check; else the first samples of the evaluation data,
    /// else seeded random inputs.
    pub fidelity_inputs: Option<PathBuf>,
    /// Intra-op threads per session (`None`: all cores).
    pub threads: Option<usize>,
    /// How synthesized inputs are sized: named dims other than the batch, whole input shapes.
    pub shapes: burnish_model::synth::ShapeSpec,
    /// What to measure and for how long.
    pub plan: MeasurePlan,
    /// Facts about the build for the environment fingerprint.
    pub build: BuildInfo,
    /// Seed of the random fidelity inputs.
    pub seed: u64,
}

impl PipelineConfig {
    /// Defaults for `model` written to `out_dir`: no quantization, quick plan.
    pub fn new(model: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            out_dir: out_dir.into(),
            title: None,
            quantize: Vec::new(),
            calibration: None,
            eval: None,
            fidelity_inputs: None,
            threads: None,
            shapes: Default::default(),
            plan: MeasurePlan::quick(),
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
    /// Array holding the labels (default `y`).
    pub labels_key: Option<String>,
}
