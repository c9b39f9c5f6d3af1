//! The render step: contexts to HTML pages and SVG files on disk.

use std::path::{Path, PathBuf};

use crate::context;
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::html::Templates;
use crate::input::ReportInput;
use crate::write::Writer;

/// What [`render`](crate::render) wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    /// The output directory.
    pub out_dir: PathBuf,
    /// `index.html`.
    pub index: PathBuf,
    /// One page per run, in run order.
    pub run_pages: Vec<PathBuf>,
    /// Every chart drawn, as a standalone SVG file under `charts/`.
    pub charts: Vec<PathBuf>,
    /// Titles of the index charts that were not drawn, with the reason.
    pub omitted: Vec<String>,
}

impl RenderedReport {
    /// Every file written, sorted.
    pub fn files(&self) -> Vec<&Path> {
        let mut all: Vec<&Path> = std::iter::once(self.index.as_path())
            .chain(self.run_pages.iter().map(PathBuf::as_path))
            .chain(self.charts.iter().map(PathBuf::as_path))
            .collect();
        all.sort();
        all
    }
}

/// Renders `input` into `out_dir` (see the crate docs).
pub fn render(input: &ReportInput, out_dir: &Path) -> Result<RenderedReport, ReportError> {
    let ds = Dataset::new(input);
    let built = context::build(&ds)?;
    let templates = Templates::new()?;
    let w = Writer::new(out_dir)?;
    let mut charts = Vec::with_capacity(built.svgs.len());
    for (id, svg) in &built.svgs {
        let mut doc = String::with_capacity(svg.len() + 40);
        doc.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        doc.push_str(svg);
        charts.push(w.write(&format!("charts/{id}.svg"), &doc)?);
    }
    let mut run_pages = Vec::with_capacity(built.run_pages.len());
    for (page, name) in built.context.runs.iter().zip(&built.run_pages) {
        let html = templates.render("run.html", page, &built.svgs)?;
        run_pages.push(w.write(name, &html)?);
    }
    let html = templates.render("index.html", &built.context.index, &built.svgs)?;
    let index = w.write("index.html", &html)?;
    let omitted = built
        .context
        .index
        .charts
        .iter()
        .filter_map(|c| c.omitted.as_ref().map(|why| format!("{}: {why}", c.title)))
        .collect();
    Ok(RenderedReport {
        out_dir: out_dir.to_path_buf(),
        index,
        run_pages,
        charts,
        omitted,
    })
}

/// The context of every page as pretty JSON: what the templates receive, for snapshot tests
/// and debugging. Chart SVGs are not included (only their slots).
pub fn page_contexts_json(input: &ReportInput) -> Result<String, ReportError> {
    let ds = Dataset::new(input);
    let built = context::build(&ds)?;
    serde_json::to_string_pretty(&built.context).map_err(|source| ReportError::Serialize {
        what: "the page contexts",
        source,
    })
}
