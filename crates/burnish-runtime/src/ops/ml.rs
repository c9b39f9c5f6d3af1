//! The `ai.onnx.ml` domain (`LabelEncoder`, `TreeEnsemble`, `ArrayFeatureExtractor`, `Binarizer`, ...).

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];
