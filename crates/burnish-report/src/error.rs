//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong while rendering a report.
#[derive(Debug, Error)]
pub enum ReportError {
    /// A file or directory could not be read, created or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done (`create directory`, `read`, ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A page could not be written atomically.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The page or chart being written.
        path: PathBuf,
        /// The underlying error (it names the temporary file when that is what failed).
        #[source]
        source: burnish_bench::BenchError,
    },
    /// A result file could not be read.
    #[error("cannot load results `{}`: {source}", path.display())]
    Load {
        /// The file.
        path: PathBuf,
        /// The result file's error.
        #[source]
        source: burnish_bench::BenchError,
    },
    /// A report input file is not valid JSON of the expected shape.
    #[error("cannot parse report input `{}`: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A report input file was written by an incompatible version.
    #[error("`{}` has report input schema version {found}; this build reads version {supported}", path.display())]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A value could not be serialized to JSON.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A template failed to render (a bug in the templates or in the page context).
    #[error("template `{template}` failed: {source}")]
    Template {
        /// The template's name.
        template: &'static str,
        /// The template engine's error.
        #[source]
        source: minijinja::Error,
    },
    /// A chart could not be drawn.
    #[error("chart `{chart}` could not be drawn: {message}")]
    Chart {
        /// The chart's id.
        chart: &'static str,
        /// What the plotting library reported.
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn chart<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> Self {
        move |e| Self::Chart {
            chart,
            message: e.to_string(),
        }
    }
}
