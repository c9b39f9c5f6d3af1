//! The model variants a pipeline measures: the baseline as authored, the optimized model
//! (level extended) and any quantized models, each saved next to the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burnish_bench::ColdStart;
use burnish_model::Model;
use burnish_optimizer::{Level, OptimizeOptions, PassManager, lower_for_export};
use burnish_report::{OptimizationRecord, PassRecord};

use crate::error::PipelineError;

/// One model that is measured.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Label in results and charts (`baseline`, `optimized`, the quantization mode).
    pub label: String,
    /// The model in memory (what the interpreter runs).
    pub model: Model,
    /// Its file: the input model for the baseline, else the saved variant.
    pub path: PathBuf,
    /// Size of that file, bytes.
    pub file_size_bytes: u64,
}

impl Variant {
    /// Bytes of parameters (initializers).
    pub fn parameter_bytes(&self) -> u64 {
        self.model.graph.parameter_stats().1 as u64
    }

    /// Cold-start facts with the given load and first-inference times.
    pub fn cold_start(&self, load_ms: f64, first_inference_ms: Option<f64>) -> ColdStart {
        ColdStart {
            model_load_ms: Some(load_ms),
            first_inference_ms,
            model_file_bytes: Some(self.file_size_bytes),
            parameter_bytes: Some(self.parameter_bytes()),
        }
    }
}

/// The baseline: `path` imported as authored; returns the variant and the import time (ms).
pub fn baseline(path: &Path) -> Result<(Variant, f64), PipelineError> {
    let start = Instant::now();
    let model = burnish_model::load_onnx(path).map_err(|source| PipelineError::Load {
        path: path.to_path_buf(),
        source,
    })?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let file_size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok((
        Variant {
            label: "baseline".into(),
            model,
            path: path.to_path_buf(),
            file_size_bytes,
        },
        load_ms,
    ))
}

/// Runs the extended pass list on a copy of `base`; returns the optimized model and what the
/// optimizer did, in the report's terms.
pub fn optimize(
    base: &Variant,
    source: &Path,
) -> Result<(Model, OptimizationRecord), PipelineError> {
    let mut model = base.model.clone();
    let manager = PassManager::new(OptimizeOptions {
        level: Level::Extended,
        ..OptimizeOptions::default()
    })
    .map_err(|source_err| PipelineError::Optimize {
        path: source.to_path_buf(),
        source: Box::new(source_err),
    })?;
    let params_before = base.model.graph.parameter_stats().0 as u64;
    let record = manager
        .run(&mut model)
        .map_err(|source_err| PipelineError::Optimize {
            path: source.to_path_buf(),
            source: Box::new(source_err),
        })?;
    let params_after = model.graph.parameter_stats().0 as u64;
    let report = OptimizationRecord {
        passes: record
            .passes
            .iter()
            .map(|p| PassRecord {
                name: p.name.clone(),
                changes: p.changes as u64,
                millis: p.millis,
            })
            .collect(),
        nodes_before: record.nodes_before as u64,
        nodes_after: record.nodes_after as u64,
        params_before,
        params_after,
    };
    Ok((model, report))
}

/// Saves `model` as `dir/<label>.onnx`, keeping fused `burnish`-domain ops so that the file
/// is exactly what was measured (`burnish optimize` without `--keep-fused` exports standard
/// ops instead).
pub fn save(label: &str, model: Model, dir: &Path) -> Result<Variant, PipelineError> {
    let path = dir.join(format!("{}.onnx", file_stem(label)));
    std::fs::create_dir_all(dir).map_err(|e| PipelineError::SaveModel {
        path: path.clone(),
        source: burnish_model::ModelError::io(dir, e),
    })?;
    let export = lower_for_export(&model, true);
    burnish_model::save_onnx(&export, &path).map_err(|source| PipelineError::SaveModel {
        path: path.clone(),
        source,
    })?;
    let file_size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Variant {
        label: label.to_string(),
        model,
        path,
        file_size_bytes,
    })
}

fn file_stem(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
