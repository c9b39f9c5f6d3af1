//! Losses and training-mode ops: `NegativeLogLikelihoodLoss`, `SoftmaxCrossEntropyLoss`, the
//! `ai.onnx.preview.training` optimizers (`Adagrad`, `Adam`, `Momentum`), the random ops
//! `Bernoulli` and `RandomUniformLike`, and the training-mode paths of `BatchNormalization` and
//! `Dropout` (whose builders live in `norm.rs` and `unary.rs`).

mod host;
mod nll;
mod optim;
mod random;
mod training;

pub(crate) use random::{dropout_training, seeded};
pub(crate) use training::batch_norm_training;

use super::Builder;

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    (
        "NegativeLogLikelihoodLoss",
        nll::negative_log_likelihood_loss,
    ),
    ("SoftmaxCrossEntropyLoss", nll::softmax_cross_entropy_loss),
    ("Bernoulli", random::bernoulli),
    ("RandomUniformLike", random::random_uniform_like),
];

/// The `ai.onnx.preview.training` domain.
const TRAINING: &str = "ai.onnx.preview.training";

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[
    (TRAINING, "Adagrad", optim::adagrad),
    (TRAINING, "Adam", optim::adam),
    (TRAINING, "Momentum", optim::momentum),
];
