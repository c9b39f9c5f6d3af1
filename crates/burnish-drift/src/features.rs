//! How features are extracted from a tensor's shape.
//!
//! | rank | [`Layout::ByShape`] (default) | name |
//! |---|---|---|
//! | 1 `[N]` | one feature, the N values | `x` |
//! | 2 `[N, F]` | F features, column j | `x[j]` |
//! | 3 `[N, T, F]` | F features, each pooling its N·T values | `x[j]` |
//! | ≥4 `[N, C, H, W, ..]` | C features, each pooling all N·H·W pixel values of channel c | `x[ch c]` |
//!
//! [`Layout::SampleMeans`] keeps one value per sample instead: the mean over T (rank 3) or
//! over the pixels (rank ≥ 4) of each feature. Pooled pixels see changes in the pixel
//! distribution (contrast, clipping, noise); per-sample means see brightness shifts between
//! whole images without being swamped by the N·H·W pixel count. [`Layout::Pooled`] makes the
//! whole tensor one feature (e.g. token ids `[N, T]` as one vocabulary distribution).

use serde::{Deserialize, Serialize};

use crate::reservoir::{Reservoir, name_seed};
use crate::{DriftError, Sample};

/// Whether values are measurements or labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Real-valued: PSI over quantile bins, KS, Wasserstein-1.
    #[default]
    Continuous,
    /// Integer labels passed as f32 (token ids, class ids): PSI over observed categories and a
    /// chi-square test; non-integer values are an error.
    Categorical,
}

/// How a tensor is cut into features; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One feature per column / last-dim entry / channel, pooling all its values (default).
    #[default]
    ByShape,
    /// As `ByShape`, but one value per sample: the mean of that sample's values of the feature.
    SampleMeans,
    /// The whole tensor is one feature.
    Pooled,
}

/// How to treat one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InputSpec {
    /// Continuous (default) or categorical values.
    pub kind: ValueKind,
    /// How the tensor is cut into features.
    pub layout: Layout,
}

impl InputSpec {
    /// Integer labels, all positions pooled into one feature (token ids, class ids).
    pub fn categorical() -> Self {
        InputSpec {
            kind: ValueKind::Categorical,
            layout: Layout::Pooled,
        }
    }
}

/// The values of one feature, possibly subsampled.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// `input`, `input[j]` or `input[ch c]`.
    pub name: String,
    /// The values kept (at most the subsampling cap).
    pub values: Vec<f32>,
    /// How many values the feature had before subsampling.
    pub total: usize,
}

/// The tensor seen as `[N, T, F, I]`: F features, each reading T·I values per sample.
#[derive(Debug, Clone, Copy)]
struct View {
    n: usize,
    t: usize,
    f: usize,
    i: usize,
}

fn view(shape: &[usize], layout: Layout) -> View {
    let n = shape[0];
    let rest: usize = shape[1..].iter().product();
    match (layout, shape.len()) {
        (Layout::Pooled, _) | (_, 1) => View {
            n,
            t: 1,
            f: 1,
            i: rest,
        },
        (_, 2) => View {
            n,
            t: 1,
            f: shape[1],
            i: 1,
        },
        (_, 3) => View {
            n,
            t: shape[1],
            f: shape[2],
            i: 1,
        },
        _ => View {
            n,
            t: 1,
            f: shape[1],
            i: rest / shape[1],
        },
    }
}

/// Number of features `sample` yields under `layout`.
pub fn feature_count(sample: &Sample<'_>, layout: Layout) -> usize {
    view(sample.shape(), layout).f
}

fn feature_name(input: &str, shape: &[usize], layout: Layout, j: usize) -> String {
    match (layout, shape.len()) {
        (Layout::Pooled, _) | (_, 1) => input.to_string(),
        (_, 2 | 3) => format!("{input}[{j}]"),
        _ => format!("{input}[ch {j}]"),
    }
}

/// Cuts `sample` into features as `spec` says, keeping at most `max_values` values per feature
/// (a uniform subsample without replacement, seeded by `seed` and the feature name).
///
/// Errors on NaN or infinite values, on non-integer values of a categorical input, and on
/// [`Layout::SampleMeans`] for a categorical input.
pub fn extract_features(
    input: &str,
    sample: &Sample<'_>,
    spec: &InputSpec,
    max_values: usize,
    seed: u64,
) -> Result<Vec<Feature>, DriftError> {
    if spec.kind == ValueKind::Categorical && spec.layout == Layout::SampleMeans {
        return Err(DriftError::InvalidSetting {
            name: "layout",
            reason: format!("input `{input}`: sample means of categorical values are meaningless"),
        });
    }
    let v = view(sample.shape(), spec.layout);
    let data = sample.data();
    let check = |index: usize| -> Result<f32, DriftError> {
        let value = data[index];
        if !value.is_finite() {
            return Err(DriftError::NonFinite {
                what: input.into(),
                index,
                value,
            });
        }
        if spec.kind == ValueKind::Categorical && value.fract() != 0.0 {
            return Err(DriftError::NotInteger {
                what: input.into(),
                index,
                value,
            });
        }
        Ok(value)
    };
    let means = spec.layout == Layout::SampleMeans;
    let per_feature = if means { v.n } else { v.n * v.t * v.i };
    (0..v.f)
        .map(|f| {
            let name = feature_name(input, sample.shape(), spec.layout, f);
            let mut reservoir = Reservoir::new(max_values, per_feature, name_seed(seed, &name));
            for n in 0..v.n {
                let mut sum = 0.0f64;
                for t in 0..v.t {
                    let base = ((n * v.t + t) * v.f + f) * v.i;
                    for index in base..base + v.i {
                        let value = check(index)?;
                        if means {
                            sum += f64::from(value);
                        } else {
                            reservoir.push(value);
                        }
                    }
                }
                if means {
                    reservoir.push((sum / (v.t * v.i) as f64) as f32);
                }
            }
            let (values, total) = reservoir.finish();
            Ok(Feature {
                name,
                values,
                total,
            })
        })
        .collect()
}
