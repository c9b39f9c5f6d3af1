//! Comparison verdicts as a forest plot: each comparison's speedup with its bootstrap
//! confidence interval, the no-change line at 1 and the equivalence band.

use burnish_bench::Verdict;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Drawn;
use super::style::{self, DrawResult};
use crate::dataset::Dataset;
use crate::error::ReportError;
use crate::format;

const ID: &str = "speedup";

/// The colour of a verdict.
fn verdict_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Faster => style::GOOD,
        Verdict::Slower => style::BAD,
        Verdict::Equivalent => style::color(0),
        Verdict::Inconclusive => style::NEUTRAL,
    }
}

/// The index chart.
pub fn chart(ds: &Dataset<'_>) -> Result<Drawn, ReportError> {
    let d = Drawn::new(
        ID,
        "Speedup with confidence interval",
        "Speedup of the median latency (baseline / candidate; above 1: the candidate is \
         faster), with its bootstrap confidence interval. The shaded band is the equivalence \
         margin; green: faster, red: slower, blue: equivalent, amber: not decided yet.",
    );
    let cs = &ds.comparisons;
    if cs.is_empty() {
        return Ok(d.omitted("no baseline-versus-candidate comparison"));
    }
    let margin = |c: &burnish_bench::Comparison| 1.0 + c.equivalence_pct.max(0.0) / 100.0;
    let (lo, hi) = style::extent(
        cs.iter()
            .flat_map(|c| [c.speedup.lo, c.speedup.hi, 1.0 / margin(c), margin(c)]),
    )
    .unwrap_or((0.9, 1.1));
    let span = (hi - lo).max(0.02);
    let x_range = (lo - span * 0.15).max(0.0)..hi + span * 0.15;
    let n = cs.len() as f64;
    let names: Vec<String> = cs
        .iter()
        .map(|c| format!("{} vs {}", c.candidate, c.baseline))
        .collect();
    let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(10) as u32;
    let height = (cs.len() as u32 * 56 + 100).clamp(180, 900);
    let svg = style::svg_document(
        ID,
        "Speedup with confidence interval",
        (style::SIZE.0, height),
        |root| -> DrawResult {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .margin_right(28)
                .x_label_area_size(44)
                .y_label_area_size((longest * 7 + 16).clamp(80, 360))
                .build_cartesian_2d(x_range.clone(), 0.0..n)?;
            let mut mesh = chart.configure_mesh();
            style::mesh(&mut mesh);
            mesh.disable_y_mesh()
                .y_labels(0)
                .y_label_formatter(&|_| String::new())
                .x_desc("speedup (baseline median / candidate median)")
                .x_label_formatter(&|v| format!("{}×", format::axis_num(*v)))
                .draw()?;
            for (i, c) in cs.iter().enumerate() {
                let y = n - i as f64 - 0.5;
                let m = margin(c);
                chart.draw_series([Rectangle::new(
                    [(1.0 / m, y - 0.4), (m, y + 0.4)],
                    style::color(0).mix(0.12).filled(),
                )])?;
                let col = verdict_color(c.verdict);
                let s = &c.speedup;
                chart.draw_series([
                    PathElement::new(vec![(s.lo, y), (s.hi, y)], col.stroke_width(3)),
                    PathElement::new(
                        vec![(s.lo, y - 0.15), (s.lo, y + 0.15)],
                        col.stroke_width(2),
                    ),
                    PathElement::new(
                        vec![(s.hi, y - 0.15), (s.hi, y + 0.15)],
                        col.stroke_width(2),
                    ),
                ])?;
                chart.draw_series([Circle::new((s.estimate, y), 6, col.filled())])?;
                let (px, py) = chart.backend_coord(&(s.estimate, y));
                let text = format!(
                    "{} [{}, {}]",
                    format::ratio(s.estimate),
                    format::fixed(s.lo, 3),
                    format::fixed(s.hi, 3)
                );
                style::text_at(
                    root,
                    &text,
                    (px, py - 12),
                    &style::font(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
                )?;
                let (lx, ly) = chart.backend_coord(&(x_range.start, y));
                style::text_at(
                    root,
                    &names[i],
                    (lx - 8, ly),
                    &style::font(12).pos(Pos::new(HPos::Right, VPos::Center)),
                )?;
            }
            chart.draw_series(DashedLineSeries::new(
                [(1.0, 0.0), (1.0, n)],
                5,
                4,
                style::TEXT.stroke_width(1),
            ))?;
            Ok(())
        },
    )?;
    Ok(d.with_svg(svg))
}
