//! A model variant under load: an interpreter session over an in-memory model, as a bench
//! [`Target`], fed from an [`InputSource`]: real samples, or inputs synthesized from a
//! [`ShapeSpec`]. Inputs are built and uploaded once per batch size.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burnish_bench::{ColdStart, Target, TargetError};
use burnish_model::synth::{ShapeSpec, random_inputs_for};
use burnish_model::{BatchLayout, Dim, Model, Samples, TensorData};
use burnish_runtime::{Session, SessionOptions, Value};

use crate::EvalError;

/// Most distinct input sets prepared per batch size: queries cycle through them, so that a
/// data file with many samples is not reduced to its first batch.
pub const MAX_INPUT_SETS: usize = 8;

/// Where a target's inputs come from.
#[derive(Debug, Clone)]
pub enum InputSource {
    /// Seeded random inputs, sized by the spec (the batch follows the batch size).
    Synthetic(ShapeSpec),
    /// Real samples: a batch of `n` takes `n` samples, cycling through the data when it holds
    /// fewer.
    Data(Arc<Samples>),
}

impl InputSource {
    /// `seeded random inputs` or `N sample(s) of FILE`.
    pub fn describe(&self) -> String {
        match self {
            Self::Synthetic(_) => "seeded random inputs".into(),
            Self::Data(s) => format!("{} sample(s) of `{}`", s.rows(), s.source()),
        }
    }

    /// The inputs for one batch of `batch` samples starting at sample `start` (synthetic
    /// inputs ignore `start`), checked against `model`'s batch layout.
    pub fn batch(
        &self,
        model: &Model,
        start: usize,
        batch: usize,
    ) -> Result<BTreeMap<String, TensorData>, EvalError> {
        let layout = BatchLayout::of(&model.graph);
        layout.accepts(batch)?;
        match self {
            Self::Data(samples) => Ok(samples.cycled(start, batch)?),
            Self::Synthetic(shapes) => {
                let mut spec = shapes.clone();
                spec.dims.insert("batch".into(), batch);
                for input in &model.graph.inputs {
                    let Some(axis) = layout.axis(&input.name) else {
                        continue;
                    };
                    if let Some(shape) = spec.shapes.get_mut(&input.name)
                        && let Some(d) = shape.get_mut(axis)
                    {
                        *d = batch;
                    }
                    if let Some(Dim::Symbolic(name)) =
                        input.shape.as_deref().and_then(|s| s.get(axis))
                    {
                        spec.dims.insert(name.clone(), batch);
                    }
                }
                Ok(random_inputs_for(&model.graph, &spec, 0)?)
            }
        }
    }
}

type Prepared = Arc<Vec<Vec<Value>>>;

/// One session shared by every worker; inputs prepared per batch size.
pub struct ModelTarget {
    name: String,
    model: Model,
    session: Session,
    source: InputSource,
    prepared: Mutex<HashMap<usize, Prepared>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for ModelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTarget")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ModelTarget {
    /// Compiles `model` with `threads` intra-op threads, fed from `source`.
    pub fn new(
        name: &str,
        model: Model,
        threads: Option<usize>,
        source: InputSource,
    ) -> Result<Self, EvalError> {
        let session = Session::new(&model, SessionOptions::threads(threads)).map_err(
            EvalError::runtime(format!("variant `{name}`: compiling the session")),
        )?;
        Ok(Self {
            name: name.to_string(),
            model,
            session,
            source,
            prepared: Mutex::new(HashMap::new()),
            next: AtomicUsize::new(0),
        })
    }

    /// Loads the model file at `path`, compiles it and runs one inference at batch 1, and
    /// returns the target (named after the file stem) with its cold-start facts: load and
    /// compile time, first inference, file and parameter bytes. It is fed from `data` (an
    /// NPZ keyed by input name) when given, else from inputs sized by `shapes`.
    pub fn load(
        path: &Path,
        threads: Option<usize>,
        shapes: &ShapeSpec,
        data: Option<&Path>,
    ) -> Result<(Self, ColdStart), EvalError> {
        let start = Instant::now();
        let model = burnish_model::load_onnx(path).map_err(|source| EvalError::Load {
            path: path.to_path_buf(),
            source,
        })?;
        let source = match data {
            Some(file) => InputSource::Data(Arc::new(
                Samples::read(&model.graph, file)
                    .map_err(|e| EvalError::data(file.display(), e.to_string()))?,
            )),
            None => InputSource::Synthetic(shapes.clone()),
        };
        let (_, parameter_bytes) = model.graph.parameter_stats();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = Self::new(&name, model, threads, source)?;
        let model_load_ms = start.elapsed().as_secs_f64() * 1e3;
        let first = Instant::now();
        let target_err = |context| {
            let variant = name.clone();
            move |e: TargetError| EvalError::Target {
                context: format!("variant `{variant}`: {context}"),
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

    /// Where the inputs come from.
    pub fn source(&self) -> &InputSource {
        &self.source
    }

    /// The first uploaded input set for `batch` (prepared on first use).
    pub fn inputs(&self, batch: usize) -> Result<Vec<Value>, TargetError> {
        self.prepare(batch)?;
        self.sets(batch)?
            .first()
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} has no inputs")))
    }

    /// Whether the model takes a batch of `batch`; else why not (a fixed leading dim).
    pub fn batch_support(&self, batch: usize) -> Result<(), EvalError> {
        Ok(BatchLayout::of(&self.model.graph).accepts(batch)?)
    }

    /// Whether the model takes a batch of `batch` (see [`Self::batch_support`]).
    pub fn accepts_batch(&self, batch: usize) -> bool {
        self.batch_support(batch).is_ok()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<usize, Prepared>>, TargetError> {
        self.prepared
            .lock()
            .map_err(|_| TargetError::new("poisoned input cache"))
    }

    fn sets(&self, batch: usize) -> Result<Prepared, TargetError> {
        self.lock()?
            .get(&batch)
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} was not prepared")))
    }

    fn upload(&self, batch: usize) -> Result<Vec<Vec<Value>>, TargetError> {
        let count = match &self.source {
            InputSource::Data(s) if s.rows() > batch => s.rows().div_ceil(batch),
            _ => 1,
        };
        (0..count.min(MAX_INPUT_SETS))
            .map(|k| {
                let host = self
                    .source
                    .batch(&self.model, k * batch, batch)
                    .map_err(|e| TargetError::new(e.to_string()))?;
                self.session
                    .prepare_inputs(&host)
                    .map_err(|e| TargetError::new(e.to_string()))
            })
            .collect()
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
        let sets = self.upload(batch)?;
        self.lock()?.insert(batch, Arc::new(sets));
        Ok(())
    }

    fn infer(&self, batch: usize) -> Result<(), TargetError> {
        let sets = self.sets(batch)?;
        let k = self.next.fetch_add(1, Ordering::Relaxed) % sets.len().max(1);
        let values = sets
            .get(k)
            .cloned()
            .ok_or_else(|| TargetError::new(format!("batch {batch} has no inputs")))?;
        self.session
            .run_values(values)
            .map(|_| ())
            .map_err(|e| TargetError::new(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_model::{DType, Graph, Node, ValueInfo};

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
        let target = ModelTarget::new(
            "m",
            m,
            Some(1),
            InputSource::Synthetic(ShapeSpec::default()),
        )
        .unwrap();
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
        let target = ModelTarget::new(
            "m",
            m,
            Some(1),
            InputSource::Synthetic(ShapeSpec::default()),
        )
        .unwrap();
        assert!(target.accepts_batch(2) && !target.accepts_batch(1));
        let err = target.inputs(1).unwrap_err().message;
        assert!(err.contains("input `x` has a fixed batch of 2"), "{err}");
        assert_eq!(shapes(&target, 2).unwrap(), vec![vec![2, 4], vec![2, 3]]);
    }
}
