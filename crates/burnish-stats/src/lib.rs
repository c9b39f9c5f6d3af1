//! Randomness and statistics shared by every burnish crate: one seeded, portable generator
//! ([`Rng`]), the Kolmogorov-Smirnov tests ([`ks`]), the special functions behind the other
//! tests ([`special`]), the arg-max and rank rule of class scores ([`classify`]) and the
//! agreement of outputs with a reference ([`Fidelity`]). A leaf crate: it depends on nothing of burnish.
//!
//! ```
//! use burnish_stats::{Rng, ks};
//!
//! let mut rng = Rng::new(7);
//! let gaps: Vec<f64> = (0..2000).map(|_| rng.exponential(10.0)).collect();
//! let fit = ks::ks_one_sample(&gaps, |x| 1.0 - (-10.0 * x).exp());
//! assert!(fit.p_value > 1e-3);
//! ```

pub mod classify;
pub mod fidelity;
pub mod ks;
mod rng;
pub mod special;

pub use classify::{argmax, rank_of};
pub use fidelity::{Fidelity, FidelitySum};
pub use ks::KsResult;
pub use rng::{Rng, splitmix64};
