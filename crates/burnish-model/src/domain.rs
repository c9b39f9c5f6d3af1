//! burnish's own operator domain, written once: the domain name, its op types, attribute keys
//! and input positions, shared by the producers of these ops (the optimizer's fusions, the
//! lowering of QDQ to int8 ops) and their consumers (the runtime, the lowering for export, MAC
//! counts).
//!
//! | op | inputs | computes |
//! | --- | --- | --- |
//! | [`FUSED_CONV`] | `x, w, b?, z?` | `act(Conv(x, w, b) + z)` ([`FUSED_CONV_RESIDUAL`]: `z`) |
//! | [`FUSED_GEMM`] | as `Gemm` | `act(Gemm(a, b, c))` |
//! | [`FUSED_MATMUL`] | as `MatMul` | `act(MatMul(a, b))` |
//! | [`LINEAR`] | `x, w, bias?` | `act(MatMul(x, w) + bias)` |
//! | [`QCONV`] | as `QLinearConv`, then `z, z_scale, z_zero_point` ([`QCONV_RESIDUAL`]) | int8 conv with an optional residual |
//! | [`QMATMUL`] | as `QLinearMatMul` | int8 matrix product |
//! | [`QLUT`] | `x, table` (256 codes indexed by `x`'s byte) | `table[x]`: an elementwise function of int8 codes |
//! | [`QLUT2`] | `a, b, table` (65,536 codes indexed by `256 a + b`, bytes) | a binary elementwise function of two int8 tensors (broadcast) |
//!
//! The activation of a fused op is the string attribute [`ACTIVATION`]; its own attributes
//! carry the [`ACTIVATION_PREFIX`] (`activation_alpha`, `activation_min`, ...).

use crate::graph::Node;

/// The domain of burnish's own ops.
pub const DOMAIN: &str = "burnish";
/// The version of the domain written to a model's opset imports.
pub const DOMAIN_VERSION: i64 = 1;

/// Convolution with a fused activation and an optional residual input.
pub const FUSED_CONV: &str = "FusedConv";
/// `Gemm` with a fused activation.
pub const FUSED_GEMM: &str = "FusedGemm";
/// `MatMul` with a fused activation.
pub const FUSED_MATMUL: &str = "FusedMatMul";
/// `MatMul` plus bias (and activation) with a 2-D constant weight.
pub const LINEAR: &str = "Linear";
/// int8 convolution (QLinearConv's inputs, plus a residual).
pub const QCONV: &str = "QConv";
/// int8 matrix product (QLinearMatMul's inputs).
pub const QMATMUL: &str = "QMatMul";
/// An elementwise function of int8 codes by a 256-entry lookup table.
pub const QLUT: &str = "QLut";
/// A binary elementwise function of two int8 tensors by a 65,536-entry lookup table.
pub const QLUT2: &str = "QLut2";

/// The attribute naming a fused op's activation (`Relu`, `Clip`, `Gelu`, ...).
pub const ACTIVATION: &str = "activation";
/// The prefix of the activation's own attributes.
pub const ACTIVATION_PREFIX: &str = "activation_";

/// Position of [`FUSED_CONV`]'s residual input `z`.
pub const FUSED_CONV_RESIDUAL: usize = 3;
/// Position of [`QCONV`]'s residual input `z` (then `z_scale`, `z_zero_point`).
pub const QCONV_RESIDUAL: usize = 9;

/// Whether `node` is one of burnish's own ops.
pub fn is_burnish(node: &Node) -> bool {
    node.domain == DOMAIN
}

/// Whether `node` is the burnish op `op_type`.
pub fn is_op(node: &Node, op_type: &str) -> bool {
    is_burnish(node) && node.op_type == op_type
}

/// Whether an attribute key belongs to the fused activation ([`ACTIVATION`] or a key with the
/// [`ACTIVATION_PREFIX`]).
pub fn is_activation_key(key: &str) -> bool {
    key == ACTIVATION || key.starts_with(ACTIVATION_PREFIX)
}
