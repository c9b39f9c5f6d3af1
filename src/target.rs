//! Glue between the runtime and the load generator: a [`Session`] as a bench [`Target`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use burnish_bench::{ColdStart, Target, TargetError};
use burnish_model::synth::random_inputs;
use burnish_model::{Dim, Model};
use burnish_runtime::{Session, SessionOptions, Value};

/// A model under load: one session shared by every worker, with inputs prepared per batch size.
pub struct SessionTarget {
    name: String,
    model: Model,
    session: Session,
    dims: HashMap<String, usize>,
    prepared: Mutex<HashMap<usize, Vec<Value>>>,
    /// Load and first-inference facts, measured when the target was built.
    pub cold_start: ColdStart,
}

impl SessionTarget {
    /// Loads `path`, compiles it and runs one inference at batch 1 to measure cold start.
    pub fn load(
        path: &Path,
        threads: Option<usize>,
        dims: &HashMap<String, usize>,
    ) -> anyhow::Result<Arc<Self>> {
        let start = Instant::now();
        let model = burnish_model::load_onnx(path)?;
        let session = Session::new(&model, SessionOptions { threads })
            .with_context(|| format!("`{}`", path.display()))?;
        let load_ms = start.elapsed().as_secs_f64() * 1e3;
        let (_, parameter_bytes) = model.graph.parameter_stats();
        let target = SessionTarget {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            model,
            session,
            dims: dims.clone(),
            prepared: Mutex::new(HashMap::new()),
            cold_start: ColdStart {
                model_load_ms: Some(load_ms),
                first_inference_ms: None,
                model_file_bytes: std::fs::metadata(path).ok().map(|m| m.len()),
                parameter_bytes: Some(parameter_bytes as u64),
            },
        };
        let first = Instant::now();
        target
            .prepare(1)
            .map_err(|e| anyhow::anyhow!("`{}`: {}", path.display(), e.message))?;
        target
            .infer(1)
            .map_err(|e| anyhow::anyhow!("`{}`: {}", path.display(), e.message))?;
        let mut target = target;
        target.cold_start.first_inference_ms = Some(first.elapsed().as_secs_f64() * 1e3);
        Ok(Arc::new(target))
    }

    fn inputs_for(&self, batch: usize) -> Result<Vec<Value>, TargetError> {
        let mut dims = self.dims.clone();
        for input in &self.model.graph.inputs {
            match input.shape.as_deref().and_then(|s| s.first()) {
                Some(Dim::Symbolic(name)) => {
                    dims.insert(name.clone(), batch);
                }
                Some(Dim::Fixed(n)) if *n != batch => {
                    return Err(TargetError::new(format!(
                        "input `{}` has a fixed batch of {n}; cannot run batch {batch}",
                        input.name
                    )));
                }
                _ => {}
            }
        }
        let host = random_inputs(&self.model.graph, &dims, 0)
            .map_err(|e| TargetError::new(e.to_string()))?;
        self.session
            .prepare_inputs(&host)
            .map_err(|e| TargetError::new(e.to_string()))
    }
}

impl Target for SessionTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&self, batch: usize) -> Result<(), TargetError> {
        let mut map = self
            .prepared
            .lock()
            .map_err(|_| TargetError::new("poisoned input cache"))?;
        if !map.contains_key(&batch) {
            map.insert(batch, self.inputs_for(batch)?);
        }
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let values = {
            let map = self
                .prepared
                .lock()
                .map_err(|_| TargetError::new("poisoned input cache"))?;
            map.get(&batch)
                .cloned()
                .ok_or_else(|| TargetError::new(format!("batch {batch} was not prepared")))?
        };
        self.session
            .run_values(values)
            .map(|_| ())
            .map_err(|e| TargetError::new(e.to_string()))
    }
}
