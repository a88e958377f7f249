//! Convergence plots as SVG: panels side by side, each with lines for several runs, a legend and labelled axes
//! (plotters' SVG backend; text is laid out without system fonts, so it works on any machine). The legend sits in
//! a strip below the panels, never over a curve; on a log axis, exact zeros are drawn at the panel's floor (a tenth
//! of its least positive value, at most 1e-3), and the panel's title says so.
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
    /// The points in order; non-finite values are left out, and on a log axis `y ≤ 0` is drawn at the floor.
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

    /// The points drawn: finite (and x positive on a log x axis); on a log y axis, `y ≤ 0` at the floor.
    fn drawn(&self, s: &Series) -> Vec<(f64, f64)> {
        let floor = self.floor();
        let shown = |x: f64, y: f64| x.is_finite() && (!self.log_x || x > 0.0) && y.is_finite();
        let lift = |y: f64| if self.log_y && y <= 0.0 { floor } else { y };
        s.points.iter().filter(|(x, y)| shown(*x, *y)).map(|&(x, y)| (x, lift(y))).collect()
    }

    /// Where a log y axis draws zeros: a tenth of the least positive value of the panel, and at most 1e-3.
    fn floor(&self) -> f64 {
        let least = self.series.iter().flat_map(|s| &s.points).map(|p| p.1).filter(|y| y.is_finite() && *y > 0.0);
        least.fold(f64::INFINITY, f64::min).min(1e-2) / 10.0
    }

    /// The title, with a note when a log axis draws zeros at its floor.
    fn caption(&self) -> String {
        let zeros = self.log_y && self.series.iter().flat_map(|s| &s.points).any(|p| p.1.is_finite() && p.1 <= 0.0);
        match zeros {
            true => format!("{} (zeros at the floor)", self.title),
            false => self.title.clone(),
        }
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
            // The legend lists the runs of the panel with the most (the panels of a figure show the same runs).
            let labels: Vec<&str> = self
                .panels
                .iter()
                .max_by_key(|p| p.series.len())
                .map(|p| p.series.iter().map(|s| s.label.as_str()).collect())
                .unwrap_or_default();
            let rows = legend_layout(&labels, width).last().map_or(0, |&(_, y)| y / LEGEND_ROW + 1);
            let root = SVGBackend::with_string(&mut svg, (width, self.height + rows * LEGEND_ROW)).into_drawing_area();
            root.fill(&WHITE).map_err(error)?;
            let (top, strip) = root.split_vertically(self.height);
            legend(&strip, &labels, width)?;
            let areas = top.split_evenly((1, self.panels.len().max(1)));
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
        .caption(panel.caption(), ("sans-serif", 18))
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
        chart.draw_series(LineSeries::new(panel.drawn(s), color.stroke_width(2))).map_err(error)?;
    }
    Ok(())
}

/// Height of one row of the legend strip, and the width of an entry per character of its label.
const LEGEND_ROW: u32 = 22;
const LEGEND_CHAR: u32 = 8;

/// The legend entries, `labels` in series order, laid out in rows across `width`: each entry's position.
fn legend_layout(labels: &[&str], width: u32) -> Vec<(u32, u32)> {
    let (mut x, mut row, mut out) = (16, 0, Vec::new());
    for label in labels {
        let w = 40 + LEGEND_CHAR * label.chars().count() as u32;
        if x > 16 && x + w > width {
            (x, row) = (16, row + 1);
        }
        out.push((x, row * LEGEND_ROW + LEGEND_ROW / 2));
        x += w;
    }
    out
}

/// Draws the legend strip: a line of each series' colour and its label.
fn legend(area: &DrawingArea<SVGBackend, Shift>, labels: &[&str], width: u32) -> Result<(), PlotError> {
    for (i, (label, (x, y))) in labels.iter().zip(legend_layout(labels, width)).enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let (x, y) = (x as i32, y as i32);
        area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))).map_err(error)?;
        area.draw(&Text::new(label.to_string(), (x + 30, y - 7), ("sans-serif", 14))).map_err(error)?;
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
    fn a_log_axis_draws_zeros_at_its_floor_and_a_flat_series_gets_a_range() {
        let panel = Panel {
            series: vec![Series::new("a", vec![(0.0, 1.0), (1.0, 0.0), (2.0, 1e-20), (3.0, f64::NAN)])],
            ..Panel::new("t", "x", "y").log_y()
        };
        assert_eq!(panel.drawn(&panel.series[0]), vec![(0.0, 1.0), (1.0, 1e-21), (2.0, 1e-20)]);
        assert_eq!(panel.caption(), "t (zeros at the floor)");
        let (_, ys) = panel.ranges();
        assert_eq!((ys.start, ys.end), (1e-21, 1.0));
        let only_zeros =
            Panel { series: vec![Series::new("z", vec![(0.0, 0.0)])], ..Panel::new("t", "x", "y").log_y() };
        assert_eq!(only_zeros.drawn(&only_zeros.series[0]), vec![(0.0, 1e-3)], "a panel of zeros is not blank");
        let flat = Panel { series: vec![Series::new("b", vec![(0.0, 3.0), (1.0, 3.0)])], ..Panel::new("t", "x", "y") };
        let (xs, ys) = flat.ranges();
        assert!(xs.start < 0.0 && xs.end > 1.0 && ys.start < 3.0 && ys.end > 3.0);
        let svg = Figure::new(vec![panel, flat, Panel::new("empty", "x", "y")]).to_svg().unwrap();
        assert!(svg.contains("<polyline") || svg.contains("<path"), "lines are drawn");
        assert_eq!(svg.matches("<svg").count(), 1);
    }

    #[test]
    fn the_legend_is_a_strip_below_the_panels_that_wraps() {
        let labels = ["itd", "corrected-itd T=5 M=0 α=0.2 γ=0.5", "galet"];
        let at = legend_layout(&labels, 300);
        assert_eq!(at[0], (16, 11));
        assert!(at[1].1 > at[0].1 || at[1].0 > at[0].0, "{at:?}");
        assert!(at.iter().all(|&(x, _)| x < 300), "{at:?}");
        let panel = |name: &str| Panel {
            series: labels.iter().map(|l| Series::new(*l, vec![(0.0, 1.0), (1.0, 0.5)])).collect(),
            ..Panel::new(name, "x", "y")
        };
        let figure = Figure::new(vec![panel("a"), panel("b")]);
        let svg = figure.to_svg().unwrap();
        let rows = legend_layout(&labels, 1120).last().unwrap().1 / LEGEND_ROW + 1;
        assert!(
            svg.contains(&format!("height=\"{}\"", figure.height + rows * LEGEND_ROW)),
            "the strip adds {rows} row(s)"
        );
        assert_eq!(svg.matches("galet").count(), 1, "one legend for the figure, not one per panel");
    }
}
