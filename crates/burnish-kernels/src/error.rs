//! Errors reported by the kernels.

/// An invalid argument passed to a kernel entry point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// A buffer does not hold the number of elements its shape implies.
    #[error("`{what}` has {actual} elements, expected {expected}")]
    Length {
        /// Which argument.
        what: &'static str,
        /// Elements required by the shape.
        expected: usize,
        /// Elements passed.
        actual: usize,
    },
    /// The reduction dimension is outside what i32 accumulation holds exactly.
    #[error("k = `{k}` is out of range: int8 kernels accept 1..={max}")]
    DepthOutOfRange {
        /// The depth passed.
        k: usize,
        /// The largest depth accumulated exactly in i32.
        max: usize,
    },
    /// A dimension that must be positive is zero.
    #[error("`{what}` must be positive")]
    ZeroDimension {
        /// Which dimension.
        what: &'static str,
    },
    /// A kernel was requested that this CPU cannot run.
    #[error("kernel `{0}` is not supported on this CPU")]
    Unsupported(&'static str),
    /// A convolution geometry is inconsistent.
    #[error("invalid convolution: {0}")]
    Conv(String),
    /// A scale is not a finite positive number.
    #[error("`{what}` = `{value}` is not a finite positive scale")]
    Scale {
        /// Which scale.
        what: &'static str,
        /// The value passed.
        value: f32,
    },
}
