//! Page contexts: the data each template receives, every number already formatted, so that
//! the templates only place strings and the contexts can be snapshot-tested as JSON.

mod drift;
mod environment;
mod index;
mod load;
mod models;
mod run;
mod runs;
mod verdict;

use std::collections::BTreeMap;

use burnish_bench::{RunResult, ValidityStatus};
use serde::Serialize;

pub use index::IndexPage;
pub use run::RunPage;

use crate::charts::{self, Drawn};
use crate::dataset::Dataset;
use crate::error::ReportError;

/// A key/value row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kv {
    /// Name.
    pub key: String,
    /// Formatted value.
    pub value: String,
}

/// Builds a [`Kv`].
pub fn kv(key: impl Into<String>, value: impl Into<String>) -> Kv {
    Kv {
        key: key.into(),
        value: value.into(),
    }
}

/// A headline number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// What it is.
    pub label: String,
    /// The number.
    pub value: String,
    /// Context, one line.
    pub detail: String,
    /// `good`, `bad`, `warn` or empty.
    pub tone: &'static str,
}

/// `VALID`/`QUICK`/`INVALID` and its tone (a quick look is neutral, not a failure).
pub fn validity(run: &RunResult) -> (&'static str, &'static str) {
    let status = run.validity.status;
    let tone = match status {
        ValidityStatus::Valid => "good",
        ValidityStatus::Quick => "info",
        ValidityStatus::Invalid => "bad",
    };
    (status.as_str(), tone)
}

/// Every page's context, as passed to the templates.
#[derive(Debug, Clone, Serialize)]
pub struct ReportContext {
    /// `index.html`.
    pub index: IndexPage,
    /// `run-<slug>.html`, in run order.
    pub runs: Vec<RunPage>,
}

/// The contexts plus the SVG of every drawn chart, by chart id.
#[derive(Debug)]
pub struct Built {
    /// What the templates receive.
    pub context: ReportContext,
    /// Chart SVGs by id (sorted).
    pub svgs: BTreeMap<String, String>,
    /// The page file name of each run page, in the order of `context.runs`.
    pub run_pages: Vec<String>,
}

/// Draws the charts and builds every page's context.
pub fn build(ds: &Dataset<'_>) -> Result<Built, ReportError> {
    let mut svgs = BTreeMap::new();
    let mut keep = |d: Drawn| {
        if let Some(svg) = d.svg {
            svgs.insert(d.slot.id.clone(), svg);
        }
        d.slot
    };
    let slots = charts::index_charts(ds)?
        .into_iter()
        .map(&mut keep)
        .collect();
    let index = index::page(ds, slots);
    let mut runs = Vec::with_capacity(ds.runs.len());
    let mut run_pages = Vec::with_capacity(ds.runs.len());
    for entry in &ds.runs {
        let slot = keep(charts::run_chart(entry)?);
        runs.push(run::page(entry, &index.title, slot));
        run_pages.push(entry.page());
    }
    Ok(Built {
        context: ReportContext { index, runs },
        svgs,
        run_pages,
    })
}
