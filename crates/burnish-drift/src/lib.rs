//! How far has live ("current") data moved from a reference data set?
//!
//! The crate works on plain f32 tensors ([`Sample`]: data plus shape, first dimension =
//! samples) and knows nothing about ONNX or Burn.
//!
//! * **Features** are cut from each input by shape ([`features`]): columns of `[N, F]`, the last
//!   axis of `[N, T, F]`, channels of `[N, C, H, W]`. Each feature gets its
//!   [PSI](psi) over reference-quantile bins, a two-sample [Kolmogorov-Smirnov](ks) test and the
//!   [Wasserstein-1](wasserstein) distance (raw and divided by the reference std). Categorical
//!   inputs (token ids) get PSI and a [chi-square](chi_square) test over categories instead.
//!   Features with more than [`DriftSettings::max_values_per_feature`] values are subsampled
//!   with a seed, and their rows say so.
//! * **Predictions** ([`prediction_drift`]): the top-1 class distribution of model outputs,
//!   reference against current, with PSI and a chi-square test.
//! * **Clip rates** ([`clip_rates`], [`quantized_clip_rates`]): for quantized models, how often
//!   activations fall outside their calibration ranges (saturate their `QuantizeLinear` grid)
//!   on each data set, below and above, and whether the ranges look stale.
//! * A [`Verdict`] with defaults from common monitoring tools (PSI 0.1 / 0.25, p < 0.05, data
//!   set drift when half the features drift), all in [`DriftSettings`]; everything lands in a
//!   serializable [`DriftReport`] that also renders as text tables.
//!
//! ```
//! use burnish_drift::{DriftAnalysis, DriftSettings, InputSpec, OverallStatus, Sample};
//!
//! // 200 samples of 2 features; the current data's second feature moved up by 3.
//! let reference: Vec<f32> = (0..400).map(|i| ((i * 37) % 101) as f32 / 10.0).collect();
//! let current: Vec<f32> = reference
//!     .iter()
//!     .enumerate()
//!     .map(|(i, v)| if i % 2 == 1 { v + 3.0 } else { *v })
//!     .collect();
//! let shape = [200, 2];
//!
//! let mut analysis = DriftAnalysis::new(DriftSettings::default())?;
//! analysis.add_input(
//!     "x",
//!     &Sample::new(&reference, &shape)?,
//!     &Sample::new(&current, &shape)?,
//!     InputSpec::default(),
//! )?;
//! let report = analysis.finish();
//!
//! assert_eq!(report.verdict.status, OverallStatus::Drift);
//! assert_eq!(report.verdict.drifted_features, ["x[1]"]);
//! println!("{}", report.render_table());
//! let json = report.to_json()?;
//! # assert_eq!(burnish_drift::DriftReport::from_json(&json)?, report);
//! # Ok::<(), burnish_drift::DriftError>(())
//! ```

pub mod categories;
pub mod chi_square;
mod clip;
mod error;
mod feature_drift;
pub mod features;
pub mod ks;
mod prediction;
pub mod psi;
mod quantized;
mod render;
mod report;
mod reservoir;
mod sample;
mod settings;
mod verdict;
pub mod wasserstein;

pub use clip::{ClipInput, ClipRate, clip_rate, clip_rates};
pub use error::DriftError;
pub use feature_drift::{DriftTest, FeatureDrift, SideStats, compare_feature};
pub use features::{Feature, InputSpec, Layout, ValueKind, extract_features};
pub use prediction::{ClassFrequency, PredictionDrift, prediction_drift, top1_counts};
pub use quantized::{QuantGrid, QuantizedActivation, quantized_clip_rate, quantized_clip_rates};
pub use report::{DriftAnalysis, DriftReport, InputSummary, SCHEMA_VERSION};
pub use sample::{Sample, SortedValues};
pub use settings::{ClipThresholds, DriftRule, DriftSettings, Thresholds};
pub use verdict::{FeatureStatus, OverallStatus, PsiLevel, Verdict};
