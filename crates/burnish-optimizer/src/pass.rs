//! The [`Pass`] trait and what a pass may read while it runs.

use burnish_model::Model;

use crate::OptError;
use crate::probe::ProbeCache;

/// A named graph rewrite. A pass must leave the graph consistent (topologically ordered, every
/// value defined once before use) and return how many rewrites it made; `0` means "nothing to
/// do", which is how the manager detects the fixed point.
pub trait Pass: Send + Sync {
    /// The pass name (`verb_object`, as its file name).
    fn name(&self) -> &'static str;
    /// Applies the pass once over the whole model. Passes that need shapes or probed values
    /// ask `probe` (computed at most once while the graph only loses values).
    fn run(
        &self,
        model: &mut Model,
        ctx: &PassContext,
        probe: &ProbeCache,
    ) -> Result<usize, OptError>;
}

/// Settings shared by every pass of one optimization.
#[derive(Debug, Clone)]
pub struct PassContext {
    /// Constant folding keeps a folded output only up to this many bytes (unless it is no larger
    /// than the constants it replaces).
    pub max_fold_bytes: usize,
    /// Seed of the inputs used to probe shapes.
    pub seed: u64,
}

impl Default for PassContext {
    fn default() -> Self {
        Self {
            max_fold_bytes: 1 << 22,
            seed: 0,
        }
    }
}
