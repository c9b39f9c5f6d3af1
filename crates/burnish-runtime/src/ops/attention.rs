//! Attention and the normalizations of transformer and vision models (`Attention`,
//! `RMSNormalization`, `RotaryEmbedding`, `GroupNormalization`, `LRN`, ...).

mod host;
mod sdpa;

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[("Attention", sdpa::attention)];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];
