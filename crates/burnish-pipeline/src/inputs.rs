//! The pipeline's inputs: the `--inputs` data, and the feeds of the fidelity check.

use std::collections::BTreeMap;
use std::sync::Arc;

use burnish_eval::{Dataset, seeded_inputs_for};
use burnish_model::{Model, Samples, TensorData};

use crate::config::PipelineConfig;
use crate::error::PipelineError;

/// Samples of the input data the fidelity check runs (one inference each, or one per fixed
/// batch).
pub const DATA_FIDELITY_SAMPLES: usize = 32;
/// Samples of the evaluation data the fidelity check runs (in one inference).
pub const EVAL_FIDELITY_SAMPLES: usize = 256;

/// The `--inputs` data matched to `base`'s inputs, when given.
pub fn load(cfg: &PipelineConfig, base: &Model) -> Result<Option<Arc<Samples>>, PipelineError> {
    cfg.inputs
        .as_ref()
        .map(|path| {
            Samples::read(&base.graph, path)
                .map(Arc::new)
                .map_err(|e| PipelineError::data(path, e.to_string()))
        })
        .transpose()
}

/// What the fidelity check feeds every variant, one map per inference: the first
/// [`DATA_FIDELITY_SAMPLES`] samples of `data` (one at a time, or one fixed batch at a time);
/// else the first [`EVAL_FIDELITY_SAMPLES`] samples of `eval`; else seeded random inputs.
pub fn fidelity_feeds(
    cfg: &PipelineConfig,
    base: &Model,
    data: Option<&Samples>,
    eval: Option<&Dataset>,
) -> Result<Vec<BTreeMap<String, TensorData>>, PipelineError> {
    if let Some(data) = data {
        let batch = data.layout().fixed.as_ref().map_or(1, |f| f.0);
        let n = data.rows().min(DATA_FIDELITY_SAMPLES);
        let err = |e: burnish_model::ModelError| {
            PipelineError::data(std::path::Path::new(data.source()), e.to_string())
        };
        return (0..n.div_ceil(batch))
            .map(|k| data.cycled(k * batch, batch).map_err(err))
            .collect();
    }
    if let Some(e) = eval {
        let n = e.len().min(EVAL_FIDELITY_SAMPLES);
        let path = cfg
            .eval
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default();
        return Ok(vec![
            e.rows(0, n)
                .map_err(|e| PipelineError::data(&path, e.to_string()))?,
        ]);
    }
    let feed = seeded_inputs_for(base, &cfg.shapes, cfg.seed)?;
    Ok(vec![feed])
}
