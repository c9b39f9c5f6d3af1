//! Shape and value probing: runs the model on seeded inputs with every intermediate value
//! exposed, once per assignment of its symbolic dimensions.
//!
//! A value is *static* when it is identical in every run. With all input dims fixed one run
//! suffices; with symbolic (or unknown) dims, two runs give each symbolic dim two different
//! sizes (distinct per dim, `2 + k` and `3 + 2k`), so anything depending on a symbolic dim
//! differs between them and is never treated as static. A third run sets every symbolic dim
//! to 1, so a graph that branches on `batch == 1` (a squeeze, a broadcast, an `If`) is not
//! folded as if the other branch always held; a model that cannot run at 1 skips that run.
//!
//! [`ProbeCache`] shares one probe between the passes of an optimization: every pass is exact
//! and keeps value names stable (a name, once defined, always denotes the same value; fresh
//! names are never reused), so a probe stays valid for every value that still exists. It is
//! recomputed only when a pass asks for it while the graph holds a node output the probe has
//! not seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use burnish_model::{DType, Dim, Model, TensorData, ValueInfo, synth};
use burnish_runtime::{Session, SessionOptions};

use crate::OptError;

/// Values of every node output in each probe run.
#[derive(Debug)]
pub struct Probe {
    runs: Vec<BTreeMap<String, TensorData>>,
}

impl Probe {
    /// Runs `model` once per symbolic-dim assignment with seeded random inputs.
    pub fn run(model: &Model, seed: u64) -> Result<Probe, OptError> {
        let mut m = model.clone();
        let mut symbols: Vec<String> = Vec::new();
        for (i, input) in m.graph.inputs.iter_mut().enumerate() {
            for (j, d) in input.shape.iter_mut().flatten().enumerate() {
                if *d == Dim::Unknown {
                    *d = Dim::Symbolic(format!("__unknown_{i}_{j}"));
                }
                if let Dim::Symbolic(s) = d
                    && !symbols.contains(s)
                {
                    symbols.push(s.clone());
                }
            }
        }
        m.graph.outputs = m
            .graph
            .nodes
            .iter()
            .flat_map(|n| n.outputs.iter().filter(|o| !o.is_empty()))
            .map(|o| ValueInfo {
                name: o.clone(),
                dtype: None,
                shape: None,
            })
            .collect();
        let session = Session::new(&m, SessionOptions::threads(None)).map_err(|source| {
            OptError::Runtime {
                context: "probing shapes".into(),
                source,
            }
        })?;
        let assignments: Vec<HashMap<String, usize>> = if symbols.is_empty() {
            vec![HashMap::new()]
        } else {
            [(2, 1), (3, 2)]
                .iter()
                .map(|&(base, step)| {
                    symbols
                        .iter()
                        .enumerate()
                        .map(|(k, s)| (s.clone(), base + step * k))
                        .collect()
                })
                .collect()
        };
        let mut runs = Vec::new();
        for dims in &assignments {
            let inputs = synth::random_inputs(&m.graph, dims, seed)?;
            let mut outs = session.run(&inputs).map_err(|source| OptError::Runtime {
                context: "probing shapes".into(),
                source,
            })?;
            outs.extend(inputs);
            runs.push(outs);
        }
        if !symbols.is_empty() {
            let ones: HashMap<String, usize> = symbols.iter().map(|s| (s.clone(), 1)).collect();
            let inputs = synth::random_inputs(&m.graph, &ones, seed)?;
            if let Ok(mut outs) = session.run(&inputs) {
                outs.extend(inputs);
                runs.push(outs);
            }
        }
        Ok(Probe { runs })
    }

    /// The shape of `name` when it is the same in every run.
    pub fn static_shape(&self, name: &str) -> Option<Vec<usize>> {
        let first = &self.runs.first()?.get(name)?.shape;
        self.runs
            .iter()
            .all(|r| r.get(name).map(|t| &t.shape) == Some(first))
            .then(|| first.clone())
    }

    /// The value of `name` when it is the same in every run.
    pub fn static_value(&self, name: &str) -> Option<&TensorData> {
        let first = self.runs.first()?.get(name)?;
        self.runs
            .iter()
            .all(|r| r.get(name) == Some(first))
            .then_some(first)
    }

    /// True when `a` and `b` have equal shapes in every run.
    pub fn same_shape(&self, a: &str, b: &str) -> bool {
        self.runs.iter().all(|r| match (r.get(a), r.get(b)) {
            (Some(x), Some(y)) => x.shape == y.shape,
            _ => false,
        })
    }

    /// Rank of `name` when known and the same in every run.
    pub fn rank(&self, name: &str) -> Option<usize> {
        let r = self.runs.first()?.get(name)?.shape.len();
        self.runs
            .iter()
            .all(|run| run.get(name).map(|t| t.shape.len()) == Some(r))
            .then_some(r)
    }

    /// Element type of `name` as seen in the first run.
    pub fn dtype(&self, name: &str) -> Option<DType> {
        Some(self.runs.first()?.get(name)?.dtype())
    }
}

/// A probe computed on demand and reused while it covers every node output of the graph.
#[derive(Debug)]
pub struct ProbeCache {
    seed: u64,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    /// Node outputs of the graph the last probe (or failed attempt) saw.
    seen: HashSet<String>,
    probe: Option<Arc<Probe>>,
    attempted: bool,
    runs: usize,
}

impl ProbeCache {
    /// An empty cache whose probes use inputs seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            state: Mutex::new(CacheState::default()),
        }
    }

    /// The probe of `model`: the cached one while it covers every node output of the graph,
    /// otherwise a new one. `None` when the runtime cannot run the model (not retried until
    /// the graph gains a value the failed attempt did not see).
    pub fn get(&self, model: &Model) -> Option<Arc<Probe>> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = st.attempted
            && model
                .graph
                .nodes
                .iter()
                .flat_map(|n| n.outputs.iter())
                .all(|o| o.is_empty() || st.seen.contains(o));
        if !fresh {
            st.attempted = true;
            st.runs += 1;
            st.seen = model
                .graph
                .nodes
                .iter()
                .flat_map(|n| n.outputs.iter().filter(|o| !o.is_empty()).cloned())
                .collect();
            st.probe = Probe::run(model, self.seed).ok().map(Arc::new);
        }
        st.probe.clone()
    }

    /// How many times the model was probed.
    pub fn runs(&self) -> usize {
        self.state.lock().map(|s| s.runs).unwrap_or(0)
    }
}
