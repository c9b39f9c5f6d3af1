//! The look shared by every chart: palette, fonts, mesh, legend, and the SVG document wrapper.

use plotters::coord::Shift;
use plotters::coord::combinators::{BindKeyPoints, LogCoord, WithKeyPoints};
use plotters::prelude::*;

use crate::error::ReportError;
use crate::escape::escape_html;

/// Default chart size, pixels (the page scales it to its width).
pub const SIZE: (u32, u32) = (960, 420);

/// Font family written into SVG text (the page's CSS overrides it with its own stack).
pub const FONT: &str = "sans-serif";

/// Text colour.
pub const TEXT: RGBColor = RGBColor(0x33, 0x3a, 0x44);
/// Minor grid lines.
pub const GRID: RGBColor = RGBColor(0xee, 0xf0, 0xf3);
/// Major grid lines.
pub const GRID_BOLD: RGBColor = RGBColor(0xdc, 0xe0, 0xe5);
/// Axis lines.
pub const AXIS: RGBColor = RGBColor(0x9a, 0xa3, 0xad);
/// Pass / faster.
pub const GOOD: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
/// Fail / slower / SLO line.
pub const BAD: RGBColor = RGBColor(0xc8, 0x3e, 0x3e);
/// Undecided.
pub const NEUTRAL: RGBColor = RGBColor(0xd0, 0x8c, 0x1a);

/// Tableau 10, a palette readable by most colour-blind viewers.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0xba, 0xb0, 0xac),
];

/// The colour of series `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A text style of `size` pixels in the text colour.
pub fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

/// The error type drawing closures return.
pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws an SVG document of `size` with `draw` and returns it, tagged with `class="chart"`
/// and an accessible label.
pub fn svg_document(
    chart: &'static str,
    label: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> Result<String, ReportError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(ReportError::chart(chart))?;
        draw(&root).map_err(ReportError::chart(chart))?;
        root.present().map_err(ReportError::chart(chart))?;
    }
    let tag = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" data-chart=\"{chart}\" ",
        escape_html(label)
    );
    Ok(buf.replacen("<svg ", &tag, 1))
}

/// Applies the shared mesh look (grid colours, label fonts) to a mesh about to be drawn.
pub fn mesh<X, Y, DB>(m: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>)
where
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
    DB: DrawingBackend,
{
    m.max_light_lines(2)
        .light_line_style(GRID)
        .bold_line_style(GRID_BOLD)
        .axis_style(AXIS)
        .label_style(font(12))
        .axis_desc_style(font(13));
}

/// Applies the shared legend look and draws the legend in the upper left corner.
pub fn legend_at<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.92))
        .border_style(GRID_BOLD)
        .label_font(font(12))
        .legend_area_size(24)
        .draw()?;
    Ok(())
}

/// A legend swatch: a short thick line in `c`.
pub fn swatch(c: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
}

/// Draws `text` at a backend (absolute pixel) position onto `area`, whose own origin may be
/// elsewhere on the canvas.
pub fn text_at<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    backend: (i32, i32),
    style: &TextStyle<'_>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (ox, oy) = area.get_base_pixel();
    area.draw(&Text::new(
        text.to_string(),
        (backend.0 - ox, backend.1 - oy),
        style.clone(),
    ))?;
    Ok(())
}

/// `[lo, hi]` of `values`, or `None` when there are no finite values.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// An upper axis bound with 12% headroom above `max` (1 when `max` is not positive).
pub fn headroom(max: f64) -> f64 {
    if max > 0.0 { max * 1.12 } else { 1.0 }
}

/// A log-scale range padded by a factor around `[lo, hi]` (both positive).
pub fn log_range(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let lo = lo.max(1e-3);
    let hi = hi.max(lo * 1.5);
    lo / 1.25..hi * 1.25
}

/// Tick values for a log axis over `range`: the 1-2-5 sequence, or a denser one when that
/// leaves fewer than four ticks, or decades only when it gives more than ten.
pub fn log_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    let ticks = |mantissas: &[f64]| -> Vec<f64> {
        let (first, last) = (
            range.start.log10().floor() as i32,
            range.end.log10().ceil() as i32,
        );
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| range.contains(v))
            .collect()
    };
    let standard = ticks(&[1.0, 2.0, 5.0]);
    if standard.len() < 4 {
        ticks(&[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0])
    } else if standard.len() > 10 {
        ticks(&[1.0])
    } else {
        standard
    }
}

/// A log-scale axis over `[lo, hi]` (padded, see [`log_range`]) with [`log_ticks`].
pub fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let range = log_range(lo, hi);
    let ticks = log_ticks(&range);
    range.log_scale().with_key_points(ticks)
}

/// Formats a log2-axis tick as the power of two it stands for; other ticks stay blank.
pub fn pow2_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-9 && *x >= 0.0 {
        format!("{}", 2u64.pow(x.round() as u32))
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::log_ticks;

    #[test]
    fn log_ticks_follow_one_two_five() {
        assert_eq!(
            log_ticks(&(80.0..2500.0)),
            [100.0, 200.0, 500.0, 1000.0, 2000.0]
        );
        assert_eq!(log_ticks(&(450.0..900.0)), [500.0, 600.0, 800.0]);
        assert_eq!(log_ticks(&(0.5..5e6)).len(), 7);
    }
}
