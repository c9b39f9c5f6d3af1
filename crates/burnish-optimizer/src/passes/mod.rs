//! Every pass, and the one ordered list per level.
//!
//! Adding a pass: write `verb_object.rs` with a doc comment (what, pattern, refusals,
//! exactness), add it to [`basic`] or [`extended`] below with a comment if its place matters,
//! add a must-fire and a must-not-fire fixture to `tests/fixtures/gen/gen_passes.py`.

mod cancel_transposes;
mod canonicalize_sum;
mod eliminate_common_subexpressions;
mod eliminate_dead_nodes;
mod eliminate_identities;
mod fold_constants;
mod fold_conv_add_mul;
mod fold_shape_subgraphs;
mod fuse_activation;
mod fuse_conv_batchnorm;
mod fuse_conv_residual;
mod fuse_matmul_add;
mod recognize_gelu;
mod recognize_layer_norm;

pub use cancel_transposes::CancelTransposes;
pub use canonicalize_sum::CanonicalizeSum;
pub use eliminate_common_subexpressions::EliminateCommonSubexpressions;
pub use eliminate_dead_nodes::EliminateDeadNodes;
pub use eliminate_identities::EliminateIdentities;
pub use fold_constants::FoldConstants;
pub use fold_conv_add_mul::FoldConvAddMul;
pub use fold_shape_subgraphs::FoldShapeSubgraphs;
pub use fuse_activation::FuseActivation;
pub use fuse_conv_batchnorm::FuseConvBatchnorm;
pub use fuse_conv_residual::FuseConvResidual;
pub use fuse_matmul_add::FuseMatmulAdd;
pub use recognize_gelu::RecognizeGelu;
pub use recognize_layer_norm::RecognizeLayerNorm;

use crate::Pass;

/// Exact cleanups, in order.
pub fn basic() -> Vec<Box<dyn Pass>> {
    vec![
        // Cheapest first: removing no-ops exposes the patterns the other passes look for.
        Box::new(EliminateIdentities),
        // Residual `Sum`s become the `Add`s the fusions and quantizers look for.
        Box::new(CanonicalizeSum),
        // Turns `Constant` nodes into initializers, which every later pass reads as "constant".
        Box::new(FoldConstants),
        // After fold_constants: its "constant" test only sees initializers.
        Box::new(FoldShapeSubgraphs),
        // Composed Transposes may become Identity, removed on the next iteration.
        Box::new(CancelTransposes),
        Box::new(EliminateCommonSubexpressions),
        // Last: collects what the passes above orphaned.
        Box::new(EliminateDeadNodes),
    ]
}

/// Exact fusions, in order, after the basic cleanups.
pub fn extended() -> Vec<Box<dyn Pass>> {
    let mut passes = basic();
    passes.pop();
    passes.extend::<Vec<Box<dyn Pass>>>(vec![
        // Recognitions first: they need the raw Mul/Add/Div chains that the fusions below
        // would otherwise absorb into a Conv, Gemm or Linear.
        Box::new(RecognizeLayerNorm),
        // Before fuse_activation, so the recognized Gelu can itself be fused.
        Box::new(RecognizeGelu),
        // BatchNormalization becomes a Conv bias before per-channel Add/Mul folding.
        Box::new(FuseConvBatchnorm),
        Box::new(FoldConvAddMul),
        // Before fuse_activation: Linear{activation} needs the Add folded first.
        Box::new(FuseMatmulAdd),
        // After the BatchNorm and per-channel folds (they need a plain Conv followed by its
        // Add/Mul, and a residual Add is not per-channel); before fuse_activation, which then
        // applies the activation after the residual sum: act(Conv + z).
        Box::new(FuseConvResidual),
        // Last fusion: absorbs the activation into whatever producer the fusions above left.
        Box::new(FuseActivation),
        Box::new(EliminateDeadNodes),
    ]);
    passes
}

/// Every pass once, by name, in extended order.
pub fn all() -> Vec<Box<dyn Pass>> {
    extended()
}
