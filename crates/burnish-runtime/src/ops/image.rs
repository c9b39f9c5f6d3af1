//! Image and signal ops (`GridSample`, `RoiAlign`, `NonMaxSuppression`, `DFT`, `STFT`, windows, `LpPool`, ...).

mod deform;
mod detect;
mod dft;
mod grid;
pub(crate) mod host;
#[cfg(test)]
mod tests;
mod window;

use super::conv::Window;
use super::pool::{host_pool, nd::Reduce};
use super::{BuildCtx, Builder, Op, op};

/// `LpPool` (any number of spatial dims; padding contributes nothing to the norm).
pub fn lp_pool(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let win = Window::parse(ctx)?;
    let ceil = ctx.int("ceil_mode", 0)? != 0;
    let p = ctx.float("p", 2.0)? as f64;
    if !(p > 0.0 && p.is_finite()) {
        return Err(format!("LpPool p {p} must be positive"));
    }
    op(move |mut ins| host_pool(&win, &ins.take(0)?, ceil, Reduce::Lp(p), None))
}

/// This family's default-domain ops.
pub(crate) const OPS: &[(&str, Builder)] = &[
    ("GridSample", grid::grid_sample),
    ("AffineGrid", grid::affine_grid),
    ("RoiAlign", detect::roi_align),
    ("NonMaxSuppression", detect::non_max_suppression),
    ("DeformConv", deform::deform_conv),
    ("DFT", dft::dft_op),
    ("STFT", dft::stft),
    ("HannWindow", window::hann_window),
    ("HammingWindow", window::hamming_window),
    ("BlackmanWindow", window::blackman_window),
    ("MelWeightMatrix", window::mel_weight_matrix),
    ("LpPool", lp_pool),
    ("RNN", super::rnn::rnn),
];

/// This family's ops in other domains: `(domain, op type, builder)`.
pub(crate) const DOMAIN_OPS: &[(&str, &str, Builder)] = &[];
