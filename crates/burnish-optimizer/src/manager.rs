//! The fixed-point pass manager, its options and the record it produces.

use std::str::FromStr;
use std::time::Instant;

use burnish_model::Model;
use serde::Serialize;

use crate::dump::dump_graph;
use crate::verify::verify_graph;
use crate::{AttentionMatch, OptError, Pass, PassContext, ProbeCache, find_attention, passes};

/// An optimization level: one ordered pass list each (see [`crate::passes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Exact cleanups.
    Basic,
    /// Cleanups plus exact fusions.
    Extended,
}

impl FromStr for Level {
    type Err = OptError;
    fn from_str(s: &str) -> Result<Self, OptError> {
        match s {
            "basic" => Ok(Level::Basic),
            "extended" => Ok(Level::Extended),
            other => Err(OptError::UnknownLevel(other.to_string())),
        }
    }
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct OptimizeOptions {
    /// The level whose pass list runs.
    pub level: Level,
    /// Check graph consistency after every pass.
    pub verify: bool,
    /// Passes to skip.
    pub disable: Vec<String>,
    /// When non-empty, run only these passes (taken from the extended list, whatever the level).
    pub only: Vec<String>,
    /// Record a graph dump after each run of these passes.
    pub dump_after: Vec<String>,
    /// Most iterations over the list before stopping short of the fixed point.
    pub max_iterations: usize,
    /// Settings handed to the passes.
    pub context: PassContext,
}

impl Default for OptimizeOptions {
    fn default() -> Self {
        Self {
            level: Level::Extended,
            verify: false,
            disable: Vec::new(),
            only: Vec::new(),
            dump_after: Vec::new(),
            max_iterations: 10,
            context: PassContext::default(),
        }
    }
}

/// Statistics of one pass over the whole optimization.
#[derive(Debug, Clone, Serialize)]
pub struct PassStats {
    /// Pass name.
    pub name: String,
    /// Times it ran.
    pub runs: usize,
    /// Rewrites it made in total.
    pub changes: usize,
    /// Time spent in it, in milliseconds.
    pub millis: f64,
}

/// A graph dump taken after a pass.
#[derive(Debug, Clone, Serialize)]
pub struct Dump {
    /// The pass that just ran.
    pub pass: String,
    /// Iteration number (from 1).
    pub iteration: usize,
    /// The dump text.
    pub text: String,
}

/// What an optimization did, serializable to the `OUT.json` record.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizationRecord {
    /// The level run.
    pub level: Level,
    /// Iterations of the pass list (the last made no change unless `converged` is false).
    pub iterations: usize,
    /// True when a full iteration made no change.
    pub converged: bool,
    /// Per-pass statistics, in list order.
    pub passes: Vec<PassStats>,
    /// Nodes before.
    pub nodes_before: usize,
    /// Nodes after.
    pub nodes_after: usize,
    /// Initializer bytes before.
    pub param_bytes_before: usize,
    /// Initializer bytes after.
    pub param_bytes_after: usize,
    /// Total time, in milliseconds.
    pub millis: f64,
    /// Times the model was run to probe shapes and values (see [`ProbeCache`]).
    pub probes: usize,
    /// Attention subgraphs recognized in the optimized graph (recorded, not fused: see
    /// [`find_attention`]).
    pub attention: Vec<AttentionMatch>,
    /// Dumps requested with `dump_after` (not serialized).
    #[serde(skip)]
    pub dumps: Vec<Dump>,
}

/// Runs an ordered pass list to a fixed point.
pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
    options: OptimizeOptions,
}

impl PassManager {
    /// The pass list for `options` (level, `only`, `disable`), checking every pass name.
    pub fn new(options: OptimizeOptions) -> Result<Self, OptError> {
        let known: Vec<&'static str> = passes::all().iter().map(|p| p.name()).collect();
        for name in options
            .disable
            .iter()
            .chain(&options.only)
            .chain(&options.dump_after)
        {
            if !known.contains(&name.as_str()) {
                return Err(OptError::UnknownPass {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        let list = if !options.only.is_empty() {
            passes::all()
                .into_iter()
                .filter(|p| options.only.iter().any(|o| o == p.name()))
                .collect()
        } else {
            match options.level {
                Level::Basic => passes::basic(),
                Level::Extended => passes::extended(),
            }
        };
        let mut seen = Vec::new();
        let passes = list
            .into_iter()
            .filter(|p| !options.disable.iter().any(|d| d == p.name()))
            .filter(|p| {
                let first = !seen.contains(&p.name()) || p.name() == "eliminate_dead_nodes";
                seen.push(p.name());
                first
            })
            .collect();
        Ok(Self { passes, options })
    }

    /// Names of the passes that will run, in order.
    pub fn pass_names(&self) -> Vec<&'static str> {
        self.passes.iter().map(|p| p.name()).collect()
    }

    /// Optimizes `model` in place.
    pub fn run(&self, model: &mut Model) -> Result<OptimizationRecord, OptError> {
        let start = Instant::now();
        let (nodes_before, param_bytes_before) =
            (model.graph.nodes.len(), model.graph.parameter_stats().1);
        let mut stats: Vec<PassStats> = Vec::new();
        let mut dumps = Vec::new();
        let mut iterations = 0;
        let mut converged = false;
        let cache = ProbeCache::new(self.options.context.seed);
        while iterations < self.options.max_iterations {
            iterations += 1;
            let mut total = 0;
            for pass in &self.passes {
                let t = Instant::now();
                let changes = pass.run(model, &self.options.context, &cache)?;
                let millis = t.elapsed().as_secs_f64() * 1e3;
                match stats.iter_mut().find(|s| s.name == pass.name()) {
                    Some(s) => {
                        s.runs += 1;
                        s.changes += changes;
                        s.millis += millis;
                    }
                    None => stats.push(PassStats {
                        name: pass.name().to_string(),
                        runs: 1,
                        changes,
                        millis,
                    }),
                }
                total += changes;
                if self.options.verify {
                    verify_graph(&model.graph).map_err(|e| OptError::Verify {
                        pass: pass.name().to_string(),
                        message: e.to_string(),
                    })?;
                }
                if self.options.dump_after.iter().any(|d| d == pass.name()) {
                    dumps.push(Dump {
                        pass: pass.name().to_string(),
                        iteration: iterations,
                        text: dump_graph(&model.graph),
                    });
                }
            }
            if total == 0 {
                converged = true;
                break;
            }
        }
        Ok(OptimizationRecord {
            level: self.options.level,
            iterations,
            converged,
            passes: stats,
            nodes_before,
            nodes_after: model.graph.nodes.len(),
            param_bytes_before,
            param_bytes_after: model.graph.parameter_stats().1,
            millis: start.elapsed().as_secs_f64() * 1e3,
            probes: cache.runs(),
            attention: find_attention(&model.graph),
            dumps,
        })
    }
}
