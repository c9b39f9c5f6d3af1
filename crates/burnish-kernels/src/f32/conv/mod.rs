//! f32 convolution kernels that the interpreter runs instead of Burn flex's conv.
//!
//! Flex computes a convolution as a tiled im2col followed by a generic GEMM call per tile. On the
//! small layers of serving-size CNNs (16-64 channels, 8x8 to 64x64 pixels) the per-call setup of
//! the generic GEMM dominates and the conv ran at ~6 GFLOP/s on one Zen 3 core, a tenth of what
//! the FMA units allow. Here the weights are packed once, at session build, into panels of
//! [`MR`] output channels; each call gathers the input patches of [`NR`] output pixels straight
//! into the panel layout the microkernel reads (im2col fused with packing), and the epilogue adds
//! the bias, an optional residual, and clamps (Relu, Clip) while the tile is still in registers.
//!
//! | piece | file |
//! |---|---|
//! | weight packing, geometry | [`pack`] |
//! | the threaded driver | [`driver`] |
//! | block layouts (in-place runs, packed panels), reduction chunks | `blocks` |
//! | padding and phase split into a per-thread scratch buffer | `padded` |
//! | 6x16 microkernels (AVX2+FMA, portable) | [`micro`] |
//! | the 6x16 and 12x16 (two panels) microkernels in AVX-512 registers | `zmm` |
//! | depthwise convolution (one input channel per group) | [`depthwise`] |
//! | a few output pixels per image: a few-row product | `few` |
//! | 6 channels x 64 pixels per tile (AVX-512), the padded input read in place | `wide` |
//! | channels along the vectors (AVX-512): the padded input read in place as a product's operand | `plane` |
//! | the channel-lane epilogue: 16 x 16 register transposes to NCHW planes | `transpose` |

mod blocks;
pub mod depthwise;
pub mod driver;
mod few;
pub mod micro;
pub mod pack;
mod padded;
mod plane;
#[cfg(target_arch = "x86_64")]
mod transpose;
#[cfg(target_arch = "x86_64")]
mod wide;
#[cfg(target_arch = "x86_64")]
mod zmm;
#[cfg(all(test, target_arch = "x86_64"))]
mod zmm_tests;

pub use crate::geometry::Conv2dGeometry;
pub use driver::{conv2d, conv2d_uninit};
pub use pack::{Epilogue, PackedConvWeights, Terms};

/// Output channels per microkernel tile.
pub const MR: usize = 6;
/// Output pixels per microkernel tile.
pub const NR: usize = 16;
/// Half a block: the microkernel reads each reduction step as two runs of `HALF` values.
const HALF: usize = NR / 2;

#[cfg(test)]
mod blocked_tests;
#[cfg(test)]
mod cases;
#[cfg(test)]
mod pair_tests;
#[cfg(test)]
mod plane_tests;
#[cfg(test)]
mod tests;
