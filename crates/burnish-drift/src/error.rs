//! The crate's one error type.

/// Everything that can go wrong while measuring drift.
///
/// Messages name the offending input, feature or value in backticks so that a CLI can print
/// them as they are.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The shape's element count does not match the data length.
    #[error("shape `{shape:?}` holds {expected} values but the data has {actual}")]
    ShapeMismatch {
        /// The shape as given.
        shape: Vec<usize>,
        /// Product of the shape's dimensions.
        expected: usize,
        /// Length of the data slice.
        actual: usize,
    },
    /// A rank-0 shape: there is no sample dimension.
    #[error("a scalar (rank-0 shape) has no sample dimension")]
    Scalar,
    /// Some dimension is zero, or a value list is empty.
    #[error("`{what}` is empty")]
    Empty {
        /// What was empty (an input, feature or activation name).
        what: String,
    },
    /// A NaN (or infinity where it is not allowed) in the data.
    #[error("`{what}` holds a non-finite value `{value}` at flat index {index}")]
    NonFinite {
        /// Input, feature or activation name.
        what: String,
        /// Flat index of the value in the data slice.
        index: usize,
        /// The value itself.
        value: f32,
    },
    /// Reference and current data have different ranks.
    #[error("input `{input}`: reference has rank {reference}, current has rank {current}")]
    RankMismatch {
        /// Input name.
        input: String,
        /// Rank of the reference shape.
        reference: usize,
        /// Rank of the current shape.
        current: usize,
    },
    /// Reference and current data yield different numbers of features.
    #[error("input `{input}`: reference has {reference} features, current has {current}")]
    FeatureCountMismatch {
        /// Input name (or "predictions").
        input: String,
        /// Features (or classes) in the reference data.
        reference: usize,
        /// Features (or classes) in the current data.
        current: usize,
    },
    /// A value of a categorical feature is not an integer.
    #[error("categorical `{what}` holds the non-integer `{value}` at flat index {index}")]
    NotInteger {
        /// Input name.
        what: String,
        /// Flat index of the value in the data slice.
        index: usize,
        /// The value itself.
        value: f32,
    },
    /// Model outputs must have at least two classes on their last axis.
    #[error("predictions need at least 2 classes on the last axis, shape is `{shape:?}`")]
    TooFewClasses {
        /// The output shape as given.
        shape: Vec<usize>,
    },
    /// A calibration range with `min > max` (or a non-finite bound).
    #[error("activation `{name}`: invalid calibration range [{min}, {max}]")]
    InvalidRange {
        /// Activation name.
        name: String,
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
    /// A quantization grid with a non-positive or non-finite scale, `qmin >= qmax`, or a zero
    /// point outside `[qmin, qmax]`.
    #[error(
        "activation `{name}`: invalid quantization grid (scale {scale}, zero point {zero_point}, \
         integers [{qmin}, {qmax}])"
    )]
    InvalidGrid {
        /// Activation name.
        name: String,
        /// Scale.
        scale: f32,
        /// Zero point.
        zero_point: i32,
        /// Smallest integer.
        qmin: i32,
        /// Largest integer.
        qmax: i32,
    },
    /// The same input or activation name was added twice.
    #[error("`{name}` was added twice")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// A setting outside its valid range.
    #[error("invalid setting `{name}`: {reason}")]
    InvalidSetting {
        /// Setting name.
        name: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// A saved report has a schema version this build does not read.
    #[error("drift report schema version `{found}` is not supported (this build reads {expected})")]
    SchemaVersion {
        /// Version in the file.
        found: u32,
        /// Version this build writes and reads.
        expected: u32,
    },
    /// Report (de)serialization failed.
    #[error("drift report JSON: {0}")]
    Json(#[from] serde_json::Error),
}
