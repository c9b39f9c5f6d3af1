//! Grouped bars, vertical or horizontal: the building block of the percentile, op-breakdown
//! and interference charts.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, DrawResult};

/// One bar per category for one series.
#[derive(Debug, Clone)]
pub struct BarSeries {
    /// Legend label.
    pub label: String,
    /// One value per category.
    pub values: Vec<f64>,
    /// Palette index.
    pub color: usize,
}

/// Bars grouped by category, one bar per series in each group.
#[derive(Debug, Clone)]
pub struct GroupedBars {
    /// Panel caption, if any.
    pub caption: Option<String>,
    /// Category names, in display order (left to right, or top to bottom).
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<BarSeries>,
    /// Description of the value axis.
    pub value_desc: String,
    /// Formats values on the axis and on the bars.
    pub format: fn(f64) -> String,
    /// Categories on the vertical axis, bars growing to the right.
    pub horizontal: bool,
}

const GROUP: f64 = 0.8;

impl GroupedBars {
    fn bar(&self, cat: usize, series: usize, value: f64) -> [(f64, f64); 2] {
        let w = GROUP / self.series.len().max(1) as f64;
        let start = (1.0 - GROUP) / 2.0 + series as f64 * w;
        if self.horizontal {
            let top = (self.categories.len() - cat) as f64 - start;
            [(0.0, top), (value, top - w)]
        } else {
            let left = cat as f64 + start;
            [(left, 0.0), (left + w, value)]
        }
    }

    fn center(&self, cat: usize) -> (f64, f64) {
        if self.horizontal {
            (0.0, (self.categories.len() - cat) as f64 - 0.5)
        } else {
            (cat as f64 + 0.5, 0.0)
        }
    }

    /// Draws the bars onto `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let n = self.categories.len() as f64;
        let max = style::extent(self.series.iter().flat_map(|s| s.values.iter().copied()))
            .map_or(1.0, |(_, hi)| hi);
        let value_range = 0.0..style::headroom(max);
        let longest = self.categories.iter().map(|c| c.chars().count()).max();
        let label_width = (longest.unwrap_or(4) as u32 * 7 + 16).clamp(60, 220);
        let mut builder = ChartBuilder::on(area);
        builder.margin(12).margin_right(24);
        if let Some(caption) = &self.caption {
            builder.caption(caption, style::font(14));
        }
        let (x_range, y_range) = if self.horizontal {
            builder.x_label_area_size(44).y_label_area_size(label_width);
            (value_range, 0.0..n)
        } else {
            builder.x_label_area_size(36).y_label_area_size(72);
            (0.0..n, value_range)
        };
        let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
        let fmt = |v: &f64| (self.format)(*v);
        let blank = |_: &f64| String::new();
        let mut mesh = chart.configure_mesh();
        style::mesh(&mut mesh);
        if self.horizontal {
            mesh.disable_y_mesh()
                .y_labels(0)
                .y_label_formatter(&blank)
                .x_label_formatter(&fmt)
                .x_desc(self.value_desc.as_str());
        } else {
            mesh.disable_x_mesh()
                .x_labels(0)
                .x_label_formatter(&blank)
                .y_label_formatter(&fmt)
                .y_desc(self.value_desc.as_str());
        }
        mesh.draw()?;

        let total_bars = self.categories.len() * self.series.len();
        for (j, s) in self.series.iter().enumerate() {
            let c = style::color(s.color);
            let rects = s.values.iter().enumerate().filter(|(_, v)| v.is_finite());
            chart
                .draw_series(rects.map(|(i, &v)| Rectangle::new(self.bar(i, j, v), c.filled())))?
                .label(s.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            if total_bars <= 24 {
                for (i, &v) in s.values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                    let [a, b] = self.bar(i, j, v);
                    let (px, py) = if self.horizontal {
                        let (x, y) = chart.backend_coord(&(b.0, (a.1 + b.1) / 2.0));
                        ((x + 4, y), Pos::new(HPos::Left, VPos::Center))
                    } else {
                        let (x, y) = chart.backend_coord(&((a.0 + b.0) / 2.0, b.1));
                        ((x, y - 3), Pos::new(HPos::Center, VPos::Bottom))
                    };
                    style::text_at(area, &(self.format)(v), px, &style::font(10).pos(py))?;
                }
            }
        }
        for (i, name) in self.categories.iter().enumerate() {
            let (x, y) = chart.backend_coord(&self.center(i));
            let (at, pos) = if self.horizontal {
                ((x - 8, y), Pos::new(HPos::Right, VPos::Center))
            } else {
                ((x, y + 8), Pos::new(HPos::Center, VPos::Top))
            };
            style::text_at(area, name, at, &style::font(12).pos(pos))?;
        }
        if self.series.len() > 1 {
            let corner = if self.horizontal {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperLeft
            };
            style::legend_at(&mut chart, corner)?;
        }
        Ok(())
    }
}
