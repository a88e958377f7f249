//! Convergence plots as SVG: panels side by side, each with lines for several runs, a legend and labelled axes
//! (plotters' SVG backend; text is laid out without system fonts, so it works on any machine). The legend sits in
//! the lower left corner, which decreasing curves leave free.
//!
//! ```
//! use bilevel_runtime::plot::{Figure, Panel, Series};
//!
//! let decay = |rate: f64| (0..50).map(|k| (k as f64, rate.powi(k))).collect();
//! let panel = Panel {
//!     series: vec![Series::new("fast", decay(0.5)), Series::new("slow", decay(0.9))],
//!     ..Panel::new("distance to x*", "iteration", "½(x − x*)ᵀA(x − x*)").log_y()
//! };
//! let svg = Figure::new(vec![panel]).to_svg().unwrap();
//! assert!(svg.starts_with("<svg") && svg.contains("fast") && svg.contains("slow"));
//! ```

mod landscape;

pub use landscape::Landscape;

use std::fmt;
use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line: a label for the legend and its points `(x, y)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// The points in order; on a log axis those with `y ≤ 0` (or non-finite values) are left out.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A series from its label and points.
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), points }
    }
}

/// One chart: a title, axis labels, a linear or logarithmic y axis, and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Above the chart.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// A logarithmic x axis (for times that differ by orders of magnitude between runs).
    pub log_x: bool,
    /// A logarithmic y axis (for distances and residuals that fall over many decades).
    pub log_y: bool,
    /// The lines.
    pub series: Vec<Series>,
}

impl Panel {
    /// An empty panel with a linear y axis.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Panel {
        let (title, x_label, y_label) = (title.into(), x_label.into(), y_label.into());
        Panel { title, x_label, y_label, log_x: false, log_y: false, series: Vec::new() }
    }

    /// The same panel with a logarithmic x axis.
    pub fn log_x(self) -> Panel {
        Panel { log_x: true, ..self }
    }

    /// The same panel with a logarithmic y axis.
    pub fn log_y(self) -> Panel {
        Panel { log_y: true, ..self }
    }

    /// The points drawn: finite, and positive on a log axis.
    fn drawn(&self, s: &Series) -> Vec<(f64, f64)> {
        let shown = |v: f64, log: bool| v.is_finite() && (!log || v > 0.0);
        s.points.iter().copied().filter(|(x, y)| shown(*x, self.log_x) && shown(*y, self.log_y)).collect()
    }

    /// The ranges of the drawn points, widened where empty.
    fn ranges(&self) -> (Range<f64>, Range<f64>) {
        let points: Vec<(f64, f64)> = self.series.iter().flat_map(|s| self.drawn(s)).collect();
        let span = |v: Vec<f64>, log: bool| {
            let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
            match (lo.is_finite(), log) {
                (false, true) => 1e-3..1.0,
                (false, false) => 0.0..1.0,
                (true, true) if hi <= lo * 1.0001 => lo / 2.0..hi * 2.0,
                (true, false) if hi - lo <= 1e-12 * lo.abs().max(1.0) => lo - 0.5..hi + 0.5,
                (true, true) => lo..hi,
                (true, false) => lo - 0.02 * (hi - lo)..hi + 0.02 * (hi - lo),
            }
        };
        (span(points.iter().map(|p| p.0).collect(), self.log_x), span(points.iter().map(|p| p.1).collect(), self.log_y))
    }
}

/// Panels side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// From left to right.
    pub panels: Vec<Panel>,
    /// Width of each panel in pixels (default 560).
    pub panel_width: u32,
    /// Height in pixels (default 420).
    pub height: u32,
}

/// A figure that could not be drawn or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotError(pub String);

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the plot: {}", self.0)
    }
}

impl std::error::Error for PlotError {}

impl Figure {
    /// These panels at the default size.
    pub fn new(panels: Vec<Panel>) -> Figure {
        Figure { panels, panel_width: 560, height: 420 }
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let mut svg = String::new();
        let width = self.panel_width * self.panels.len().max(1) as u32;
        {
            let root = SVGBackend::with_string(&mut svg, (width, self.height)).into_drawing_area();
            root.fill(&WHITE).map_err(error)?;
            let areas = root.split_evenly((1, self.panels.len().max(1)));
            for (area, panel) in areas.iter().zip(&self.panels) {
                let (xs, ys) = panel.ranges();
                match (panel.log_x, panel.log_y) {
                    (false, false) => draw(area, panel, xs, ys)?,
                    (false, true) => draw(area, panel, xs, ys.log_scale())?,
                    (true, false) => draw(area, panel, xs.log_scale(), ys)?,
                    (true, true) => draw(area, panel, xs.log_scale(), ys.log_scale())?,
                }
            }
            root.present().map_err(error)?;
        }
        Ok(svg)
    }

    /// Writes the figure to an SVG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_svg()?).map_err(|e| PlotError(format!("cannot write {}: {e}", path.display())))
    }
}

fn error(e: impl fmt::Display) -> PlotError {
    PlotError(e.to_string())
}

/// Draws one panel on `area` with coordinates `xs` and `ys` (each linear or log).
fn draw<X, Y>(area: &DrawingArea<SVGBackend, Shift>, panel: &Panel, xs: X, ys: Y) -> Result<(), PlotError>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(70)
        .build_cartesian_2d(xs, ys)
        .map_err(error)?;
    chart
        .configure_mesh()
        .x_desc(&panel.x_label)
        .y_desc(&panel.y_label)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(error)?;
    for (i, s) in panel.series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(panel.drawn(s), color.stroke_width(2)))
            .map_err(error)?
            .label(&s.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if !panel.series.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(error)?;
    }
    Ok(())
}

/// A tick label: at most three significant digits, in scientific notation outside [1e-3, 1e4).
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e4).contains(&a) {
        let text = format!("{v:.1e}");
        return text.replace(".0e", "e");
    }
    let text = format!("{:.*}", (2 - a.log10().floor() as i32).max(0) as usize, v);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tick_labels_are_short() {
        let labels: Vec<String> = [9.999999999999998e-15, 0.009999999999999998, 0.25, 1.0, 12.5, 3e6, 0.0, -0.5]
            .into_iter()
            .map(super::tick)
            .collect();
        assert_eq!(labels, ["1e-14", "0.01", "0.25", "1", "12.5", "3e6", "0", "-0.5"]);
    }

    use super::*;

    #[test]
    fn a_log_axis_leaves_out_zeros_and_a_flat_series_gets_a_range() {
        let panel = Panel {
            series: vec![Series::new("a", vec![(0.0, 1.0), (1.0, 0.0), (2.0, 1e-20), (3.0, f64::NAN)])],
            ..Panel::new("t", "x", "y").log_y()
        };
        assert_eq!(panel.drawn(&panel.series[0]), vec![(0.0, 1.0), (2.0, 1e-20)]);
        let (_, ys) = panel.ranges();
        assert_eq!((ys.start, ys.end), (1e-20, 1.0));
        let flat = Panel { series: vec![Series::new("b", vec![(0.0, 3.0), (1.0, 3.0)])], ..Panel::new("t", "x", "y") };
        let (xs, ys) = flat.ranges();
        assert!(xs.start < 0.0 && xs.end > 1.0 && ys.start < 3.0 && ys.end > 3.0);
        let svg = Figure::new(vec![panel, flat, Panel::new("empty", "x", "y")]).to_svg().unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"), "lines are drawn");
        assert_eq!(svg.matches("<svg").count(), 1);
    }
}
