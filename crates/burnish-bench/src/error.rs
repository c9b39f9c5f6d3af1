//! Error types: [`TargetError`] for systems under test, [`BenchError`] for the harness.

use std::path::PathBuf;

/// An error reported by a [`Target`](crate::Target) while preparing or running a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    /// What went wrong, in the target's words.
    pub message: String,
}

impl TargetError {
    /// A target error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Everything that can go wrong while benchmarking, comparing or reading results.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The target failed in `prepare` or `infer`.
    #[error("target `{target}` failed: {source}")]
    Target {
        /// The target's name.
        target: String,
        /// The target's own error.
        #[source]
        source: TargetError,
    },
    /// A configuration value is out of its domain.
    #[error("invalid configuration: `{field}` = {value}: {reason}")]
    Config {
        /// The offending field.
        field: &'static str,
        /// The offending value, rendered.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done (`read`, `write`, `rename`...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A result file is not valid JSON for this schema.
    #[error("cannot parse results `{path}`: {source}")]
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Serializing results failed.
    #[error("cannot serialize results: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A result file has a schema version this build does not read.
    #[error("results `{path}` have schema_version {found}, this build reads {supported}")]
    SchemaVersion {
        /// The file concerned.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },
    /// A statistic needs latency samples that the run does not have.
    #[error("run `{label}` has no latency samples: {reason}")]
    NoSamples {
        /// The run's label.
        label: String,
        /// What needed them.
        reason: &'static str,
    },
    /// `find_max_qps` found no rate that meets the SLO.
    #[error(
        "no rate meets the SLO: even {qps:.3} QPS has p{percentile} = {observed_us:.0} µs > {slo_us:.0} µs"
    )]
    NoFeasibleRate {
        /// The lowest rate tried.
        qps: f64,
        /// The SLO percentile (e.g. 99).
        percentile: f64,
        /// Observed latency at that percentile, µs.
        observed_us: f64,
        /// SLO latency, µs.
        slo_us: f64,
    },
}

impl BenchError {
    pub(crate) fn config(
        field: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> Self {
        Self::Config {
            field,
            value: value.to_string(),
            reason,
        }
    }

    pub(crate) fn target(target: &str, source: TargetError) -> Self {
        Self::Target {
            target: target.to_string(),
            source,
        }
    }
}
