//! Writing the report: the output directory, atomic file writes, file names.

use std::path::{Path, PathBuf};

use crate::error::ReportError;

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    burnish_bench::file::write_atomic(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Creates `dir` and its parents when missing.
pub fn ensure_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::io("create directory", dir))
}

/// Writes report files under one output directory.
#[derive(Debug, Default)]
pub struct Writer {
    root: PathBuf,
}

impl Writer {
    /// A writer into `root`, created when missing.
    pub fn new(root: &Path) -> Result<Self, ReportError> {
        ensure_dir(root)?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Writes `contents` to `relative` (a `/`-separated path under the root) atomically.
    pub fn write(&self, relative: &str, contents: &str) -> Result<PathBuf, ReportError> {
        let path = relative
            .split('/')
            .fold(self.root.clone(), |p, part| p.join(part));
        if let Some(parent) = path.parent() {
            ensure_dir(parent)?;
        }
        write_atomic(&path, contents.as_bytes())?;
        Ok(path)
    }
}

/// A file-name-safe slug: lowercase ASCII letters and digits, other runs of characters
/// collapsed into `-`, at most 60 characters; `run` when nothing is left.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "run".to_string()
    } else {
        out.to_string()
    }
}

/// Slugs for `labels`, made unique by suffixing `-2`, `-3`, ... in order.
pub fn unique_slugs<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    labels
        .into_iter()
        .map(|label| {
            let base = slug(label);
            let mut candidate = base.clone();
            let mut n = 2;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_unique() {
        assert_eq!(
            slug("resnet (baseline) single-stream"),
            "resnet-baseline-single-stream"
        );
        assert_eq!(slug("<script>alert(1)</script>"), "script-alert-1-script");
        assert_eq!(slug("///"), "run");
        assert_eq!(
            unique_slugs(["a b", "a-b", "A B"]),
            ["a-b", "a-b-2", "a-b-3"]
        );
    }
}
