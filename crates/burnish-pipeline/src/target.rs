//! A model variant under load: an interpreter session over an in-memory model, as a bench
//! [`Target`], with its inputs synthesized and uploaded once per batch size.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use burnish_bench::{ColdStart, Target, TargetError};
use burnish_model::synth::{ShapeSpec, random_inputs_for};
use burnish_model::{Dim, Model, ValueInfo};
use burnish_runtime::{Session, SessionOptions, Value};

use crate::error::PipelineError;

/// One session shared by every worker; inputs prepared per batch size (seed 0).
pub struct ModelTarget {
    name: String,
    model: Model,
    session: Session,
    shapes: ShapeSpec,
    prepared: Mutex<HashMap<usize, Vec<Value>>>,
}

impl std::fmt::Debug for ModelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTarget")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ModelTarget {
    /// Compiles `model` with `threads` intra-op threads; `shapes` sizes the synthesized inputs
    /// (named dims other than the leading batch one, whole input shapes).
    pub fn new(
        name: &str,
        model: Model,
        threads: Option<usize>,
        shapes: &ShapeSpec,
    ) -> Result<Self, PipelineError> {
        let session = Session::new(&model, SessionOptions::threads(threads))
            .map_err(PipelineError::runtime(name, "compiling the session"))?;
        Ok(Self {
            name: name.to_string(),
            model,
            session,
            shapes: shapes.clone(),
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// Loads the model file at `path`, compiles it and runs one inference at batch 1, and
    /// returns the target (named after the file stem) with its cold-start facts: load and
    /// compile time, first inference, file and parameter bytes.
    pub fn load(
        path: &Path,
        threads: Option<usize>,
        shapes: &ShapeSpec,
    ) -> Result<(Self, ColdStart), PipelineError> {
        let start = Instant::now();
        let model = burnish_model::load_onnx(path).map_err(|source| PipelineError::Load {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, parameter_bytes) = model.graph.parameter_stats();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = Self::new(&name, model, threads, shapes)?;
        let model_load_ms = start.elapsed().as_secs_f64() * 1e3;
        let first = Instant::now();
        let target_err = |context| {
            let variant = name.clone();
            move |e: TargetError| PipelineError::Target {
                variant,
                context,
                message: format!("`{}`: {}", path.display(), e.message),
            }
        };
        target.prepare(1).map_err(target_err("preparing batch 1"))?;
        target.infer(1).map_err(target_err("first inference"))?;
        let cold_start = ColdStart {
            model_load_ms: Some(model_load_ms),
            first_inference_ms: Some(first.elapsed().as_secs_f64() * 1e3),
            model_file_bytes: std::fs::metadata(path).ok().map(|m| m.len()),
            parameter_bytes: Some(parameter_bytes as u64),
        };
        Ok((target, cold_start))
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The uploaded inputs for `batch` (prepared on first use).
    pub fn inputs(&self, batch: usize) -> Result<Vec<Value>, TargetError> {
        self.prepare(batch)?;
        self.lock()?
            .get(&batch)
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} was not prepared")))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<usize, Vec<Value>>>, TargetError> {
        self.prepared
            .lock()
            .map_err(|_| TargetError::new("poisoned input cache"))
    }

    fn inputs_for(&self, batch: usize) -> Result<Vec<Value>, TargetError> {
        if !self.accepts_batch(batch) {
            let (name, n) = self.fixed_batch().unwrap_or_default();
            return Err(TargetError::new(format!(
                "input `{name}` has a fixed batch of {n}; cannot run batch {batch}"
            )));
        }
        let mut spec = self.shapes.clone();
        spec.dims.insert("batch".into(), batch);
        for input in &self.model.graph.inputs {
            let leading = input.shape.as_deref().and_then(|s| s.first());
            if let Some(Dim::Symbolic(name)) = leading {
                spec.dims.insert(name.clone(), batch);
            }
            if matches!(leading, Some(Dim::Symbolic(_) | Dim::Unknown))
                && let Some(first) = spec.shapes.get_mut(&input.name).and_then(|s| s.first_mut())
            {
                *first = batch;
            }
        }
        let host = random_inputs_for(&self.model.graph, &spec, 0)
            .map_err(|e| TargetError::new(e.to_string()))?;
        self.session
            .prepare_inputs(&host)
            .map_err(|e| TargetError::new(e.to_string()))
    }

    /// The model's fixed batch, when no input has a free leading dimension: the first
    /// input with a fixed leading dimension and its size. Inputs with a fixed leading dimension
    /// beside batched ones (a recurrent state `[2, batch, 128]`) keep their declared shape.
    fn fixed_batch(&self) -> Option<(String, usize)> {
        let leading = |i: &ValueInfo| i.shape.as_deref().and_then(|s| s.first().cloned());
        let inputs = &self.model.graph.inputs;
        if inputs
            .iter()
            .any(|i| matches!(leading(i), Some(Dim::Symbolic(_) | Dim::Unknown)))
        {
            return None;
        }
        inputs.iter().find_map(|i| match leading(i) {
            Some(Dim::Fixed(n)) => Some((i.name.clone(), n)),
            _ => None,
        })
    }

    /// Whether the model accepts a batch of `batch`: some input has a free leading
    /// dimension, or the fixed batch is `batch`.
    pub fn accepts_batch(&self, batch: usize) -> bool {
        self.fixed_batch().is_none_or(|(_, n)| n == batch)
    }
}

impl Target for ModelTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn prepare(&self, batch: usize) -> Result<(), TargetError> {
        if self.lock()?.contains_key(&batch) {
            return Ok(());
        }
        let values = self.inputs_for(batch)?;
        self.lock()?.insert(batch, values);
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let values = self
            .lock()?
            .get(&batch)
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} was not prepared")))?;
        self.session
            .run_values(values)
            .map(|_| ())
            .map_err(|e| TargetError::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_model::{DType, Graph, Node};

    fn info(name: &str, dims: Vec<Dim>) -> ValueInfo {
        ValueInfo {
            name: name.into(),
            dtype: Some(DType::F32),
            shape: Some(dims),
        }
    }

    /// `y = Identity(x)`, `z = Identity(state)` over the given input shapes.
    fn model(x: Vec<Dim>, state: Vec<Dim>) -> Model {
        let node = |i: &str, o: &str| Node {
            name: format!("id_{i}"),
            op_type: "Identity".into(),
            domain: String::new(),
            inputs: vec![i.into()],
            outputs: vec![o.into()],
            attrs: Default::default(),
        };
        Model {
            graph: Graph {
                inputs: vec![info("x", x), info("state", state)],
                outputs: vec![info("y", vec![]), info("z", vec![])],
                nodes: vec![node("x", "y"), node("state", "z")],
                ..Default::default()
            },
            opsets: [(String::new(), 17)].into(),
            ir_version: 8,
            ..Default::default()
        }
    }

    fn shapes(target: &ModelTarget, batch: usize) -> Result<Vec<Vec<usize>>, TargetError> {
        Ok(target.inputs(batch)?.iter().map(Value::shape).collect())
    }

    #[test]
    fn a_fixed_leading_dim_beside_a_batched_input_keeps_its_shape() {
        let batch = || Dim::Symbolic("batch".into());
        let m = model(
            vec![batch(), Dim::Fixed(4)],
            vec![Dim::Fixed(2), batch(), Dim::Fixed(3)],
        );
        let target = ModelTarget::new("m", m, Some(1), &ShapeSpec::default()).unwrap();
        assert!(target.accepts_batch(1) && target.accepts_batch(8));
        assert_eq!(shapes(&target, 1).unwrap(), vec![vec![1, 4], vec![2, 1, 3]]);
        assert_eq!(shapes(&target, 8).unwrap(), vec![vec![8, 4], vec![2, 8, 3]]);
    }

    #[test]
    fn a_model_without_free_leading_dims_has_a_fixed_batch() {
        let m = model(
            vec![Dim::Fixed(2), Dim::Fixed(4)],
            vec![Dim::Fixed(2), Dim::Fixed(3)],
        );
        let target = ModelTarget::new("m", m, Some(1), &ShapeSpec::default()).unwrap();
        assert!(target.accepts_batch(2) && !target.accepts_batch(1));
        let err = target.inputs(1).unwrap_err().message;
        assert!(err.contains("input `x` has a fixed batch of 2"), "{err}");
        assert_eq!(shapes(&target, 2).unwrap(), vec![vec![2, 4], vec![2, 3]]);
    }
}
