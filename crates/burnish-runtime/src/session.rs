//! Sessions: a compiled model plus the thread pool it runs on.

use std::collections::BTreeMap;
use std::time::Duration;

use burnish_model::{Dim, Model, TensorData, ValueInfo};

use crate::error::RuntimeError;
use crate::plan::Plan;
use crate::value::Value;

pub use crate::plan::unsupported_ops;

/// How a session runs.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Intra-op threads; `None` uses every core. Runs execute on the calling thread, which
    /// joins a private rayon pool of this many threads for good and works in it (see the
    /// `inline` module).
    pub threads: Option<usize>,
    /// Run each `Conv` with the `BatchNormalization`, residual `Add` and `Relu`/`Clip` nodes
    /// that only it feeds as one kernel call, with the same f32 operations in the same order
    /// (so the same results) as running them one by one; likewise batch the per-step input
    /// projections of an unrolled recurrence into one product (see `batch_projections.rs`).
    /// On by default; off runs every node on its own (for A/B measurements and debugging).
    pub conv_chains: bool,
    /// Run QDQ patterns (`DequantizeLinear -> Conv | MatMul | Gemm -> QuantizeLinear`, from
    /// `burnish optimize --quantize static-int8` or onnxruntime's `quantize_static`) on int8
    /// kernels: the graph is lowered with [`crate::lower_qdq`] when the session is built, as
    /// onnxruntime's QDQ transformers do (bit-exact with its `QLinearConv`; at most one code
    /// off the float QDQ graph). On by default; off runs the QDQ graph as written, in float
    /// (A/B and debugging).
    pub qdq_int8: bool,
    /// With several threads, keep the other workers polling for parallel work for the whole of
    /// a run instead of letting them sleep between parallel sections (onnxruntime's
    /// `session.intra_op.allow_spinning`, also on by default): each section then starts on
    /// every thread at once, for a core held busy during the run's serial stretches. Off
    /// leaves idle workers to sleep (shared machines, power).
    pub spin: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            threads: None,
            conv_chains: true,
            qdq_int8: true,
            spin: true,
        }
    }
}

impl SessionOptions {
    /// Default options with `threads` intra-op threads (`None`: every core).
    pub fn threads(threads: Option<usize>) -> Self {
        Self {
            threads,
            ..Self::default()
        }
    }
}

/// Time spent in one node during a profiled run.
#[derive(Debug, Clone)]
pub struct NodeTiming {
    /// Node name.
    pub name: String,
    /// Op type.
    pub op_type: String,
    /// Wall time of the node.
    pub elapsed: Duration,
    /// Shapes of the inputs (empty for omitted ones).
    pub input_shapes: Vec<Vec<usize>>,
    /// Shapes of the outputs.
    pub output_shapes: Vec<Vec<usize>>,
}

/// A model compiled for execution. Runs take `&self`, so one session serves many threads.
pub struct Session {
    plan: Plan,
    pool: Option<rayon::ThreadPool>,
    /// [`SessionOptions::spin`].
    spin: bool,
}

impl Session {
    /// Compiles `model`: checks op support (all unsupported ops reported at once), lowers its
    /// QDQ patterns to int8 ops (see [`SessionOptions::qdq_int8`]), builds every op and uploads
    /// every weight once.
    pub fn new(model: &Model, options: SessionOptions) -> Result<Session, RuntimeError> {
        let plan = Plan::compile(model, options.conv_chains, options.qdq_int8)?;
        let pool = match options.threads {
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()
                    .map_err(|e| RuntimeError::Threads {
                        threads: n,
                        message: e.to_string(),
                    })?,
            ),
            None => None,
        };
        Ok(Session {
            plan,
            pool,
            spin: options.spin,
        })
    }

    /// The graph inputs, in declaration order.
    pub fn inputs(&self) -> Vec<&ValueInfo> {
        self.plan.inputs.iter().map(|(i, _)| i).collect()
    }

    /// The graph output names, in declaration order.
    pub fn output_names(&self) -> Vec<&str> {
        self.plan.outputs.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Uploads and checks host inputs against the declared types.
    pub fn prepare_inputs(
        &self,
        inputs: &BTreeMap<String, TensorData>,
    ) -> Result<Vec<Value>, RuntimeError> {
        let expected = || {
            self.plan
                .inputs
                .iter()
                .map(|(i, _)| format!("`{}`", i.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for name in inputs.keys() {
            if !self.plan.inputs.iter().any(|(i, _)| &i.name == name) {
                return Err(RuntimeError::UnknownInput {
                    name: name.clone(),
                    expected: expected(),
                });
            }
        }
        self.plan
            .inputs
            .iter()
            .map(|(info, _)| {
                let t = inputs
                    .get(&info.name)
                    .ok_or_else(|| RuntimeError::MissingInput {
                        name: info.name.clone(),
                        expected: expected(),
                    })?;
                check_input(info, t)?;
                Value::from_data(t).map_err(|e| RuntimeError::Value {
                    name: info.name.clone(),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// Runs on host tensors keyed by input name; returns host tensors keyed by output name.
    pub fn run(
        &self,
        inputs: &BTreeMap<String, TensorData>,
    ) -> Result<BTreeMap<String, TensorData>, RuntimeError> {
        let values = self.prepare_inputs(inputs)?;
        let outs = self.run_values(values)?;
        self.plan
            .outputs
            .iter()
            .zip(outs)
            .map(|((name, _), v)| {
                let t = v.to_data().map_err(|e| RuntimeError::Value {
                    name: name.clone(),
                    message: e.to_string(),
                })?;
                Ok((name.clone(), t))
            })
            .collect()
    }

    /// Runs on device values in input order (from [`Session::prepare_inputs`]); returns outputs
    /// in output order. This is the path benchmarks time.
    pub fn run_values(&self, inputs: Vec<Value>) -> Result<Vec<Value>, RuntimeError> {
        self.in_pool(|| self.plan.execute(inputs, None))
    }

    /// Like [`Session::run_values`], also timing every node.
    pub fn run_profiled(
        &self,
        inputs: Vec<Value>,
    ) -> Result<(Vec<Value>, Vec<NodeTiming>), RuntimeError> {
        self.in_pool(|| {
            let mut timings = Vec::with_capacity(self.plan.steps.len());
            let outs = self.plan.execute(inputs, Some(&mut timings))?;
            Ok((outs, timings))
        })
    }

    fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let spin = self.spin;
        let f = move || match spin {
            true => crate::inline::with_polling_workers(f),
            false => f(),
        };
        match &self.pool {
            Some(pool) => crate::inline::run_joined(pool.current_num_threads(), pool, f),
            None => crate::inline::run_all_cores(f),
        }
    }
}

fn check_input(info: &ValueInfo, t: &TensorData) -> Result<(), RuntimeError> {
    if let Some(d) = info.dtype
        && d != t.dtype()
    {
        return Err(RuntimeError::InputDtype {
            name: info.name.clone(),
            expected: d,
            got: t.dtype(),
        });
    }
    if let Some(dims) = &info.shape {
        let fits = dims.len() == t.shape.len()
            && dims.iter().zip(&t.shape).all(|(d, &n)| match d {
                Dim::Fixed(f) => *f == n,
                _ => true,
            });
        if !fits {
            return Err(RuntimeError::InputShape {
                name: info.name.clone(),
                expected: info.shape_string(),
                got: t.shape.clone(),
            });
        }
    }
    Ok(())
}
