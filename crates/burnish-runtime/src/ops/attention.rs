//! Attention and the normalizations of transformer and vision models (`Attention`,
//! `RMSNormalization`, `RotaryEmbedding`, `GroupNormalization`, `LRN`, ...), and the stateful
//! sequence ops of opset 27 (`LinearAttention`, `CausalConvWithState`).

mod flex;
mod host;
mod norms;
mod recurrent;
mod rotary;
mod sdpa;

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("Attention", sdpa::attention),
    ("RMSNormalization", norms::rms_norm),
    ("GroupNormalization", norms::group_norm),
    ("LpNormalization", norms::lp_norm),
    ("MeanVarianceNormalization", norms::mvn),
    ("LRN", norms::lrn),
    ("RotaryEmbedding", rotary::rotary_embedding),
    ("LinearAttention", recurrent::linear_attention),
    ("CausalConvWithState", recurrent::causal_conv_with_state),
];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] =
    &[("ai.onnx.preview", "FlexAttention", flex::flex_attention)];

#[cfg(test)]
mod tests;
