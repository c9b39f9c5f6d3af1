//! Errors of [`generate`](crate::generate).

use std::path::{Path, PathBuf};

use burnish_model::ModelError;

/// Why a crate could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// A graph input without a declared shape: the generated `forward` takes fixed-rank
    /// tensors, so the rank must be known.
    #[error("input `{name}` has no declared shape (its rank is needed for the generated code)")]
    UnknownRank {
        /// The input's name.
        name: String,
    },
    /// The output folder holds a crate that `burnish codegen` did not write.
    #[error("`{}` was not written by `burnish codegen`; refusing to overwrite it", path.display())]
    ForeignCrate {
        /// The existing manifest.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing a file failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl CodegenError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CodegenError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
