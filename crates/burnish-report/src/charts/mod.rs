//! Charts, drawn with plotters' SVG backend, one chart kind per file.
//!
//! Each kind picks its data from the [`Dataset`] and either draws an SVG or says why it was
//! omitted: a chart is never drawn empty. Text drawn into SVG is escaped by plotters' SVG
//! backend; the accessible label on the `<svg>` element by [`crate::escape::escape_html`].

mod bars;
mod batch_throughput;
mod concurrency;
mod interference;
mod latency_cdf;
mod op_breakdown;
mod pareto;
mod percentiles;
mod qps_slo;
mod speedup;
mod style;

use serde::Serialize;

use crate::dataset::{Dataset, RunEntry};
use crate::error::ReportError;

/// What a page says about one chart; the SVG itself travels separately (see [`Drawn`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartSlot {
    /// Unique within the report; the SVG file is `charts/<id>.svg`.
    pub id: String,
    /// The index section the chart belongs to (`verdict`, `latency`, `load`, `variants`,
    /// `optimization`, `interference`); empty on run pages.
    pub section: &'static str,
    /// Heading.
    pub title: String,
    /// What the chart shows, one or two sentences.
    pub caption: String,
    /// Why the chart is not drawn, when it is not.
    pub omitted: Option<String>,
}

/// A chart slot with its SVG, when drawn.
#[derive(Debug, Clone)]
pub struct Drawn {
    /// The slot.
    pub slot: ChartSlot,
    /// The SVG document.
    pub svg: Option<String>,
}

impl Drawn {
    fn new(id: impl Into<String>, title: impl Into<String>, caption: impl Into<String>) -> Self {
        Self {
            slot: ChartSlot {
                id: id.into(),
                section: "",
                title: title.into(),
                caption: caption.into(),
                omitted: None,
            },
            svg: None,
        }
    }

    fn in_section(mut self, section: &'static str) -> Self {
        self.slot.section = section;
        self
    }

    fn with_svg(mut self, svg: String) -> Self {
        self.svg = Some(svg);
        self
    }

    fn omitted(mut self, reason: impl Into<String>) -> Self {
        self.slot.omitted = Some(reason.into());
        self
    }
}

/// Every chart of the index page, in page order.
pub fn index_charts(ds: &Dataset<'_>) -> Result<Vec<Drawn>, ReportError> {
    let mut charts = vec![
        speedup::chart(ds)?.in_section("verdict"),
        latency_cdf::chart(ds)?.in_section("latency"),
        percentiles::chart(ds)?.in_section("latency"),
        batch_throughput::chart(ds)?.in_section("load"),
        concurrency::chart(ds)?.in_section("load"),
        qps_slo::chart(ds)?.in_section("load"),
        pareto::chart(ds)?.in_section("variants"),
        op_breakdown::chart(ds)?.in_section("optimization"),
    ];
    charts.extend(
        interference::charts(ds)?
            .into_iter()
            .map(|d| d.in_section("interference")),
    );
    Ok(charts)
}

/// The latency CDF of one run, for its page.
pub fn run_chart(entry: &RunEntry<'_>) -> Result<Drawn, ReportError> {
    latency_cdf::for_run(entry)
}
