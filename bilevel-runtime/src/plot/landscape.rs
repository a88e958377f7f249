//! A landscape: a heat map with marks, arrows and a path (see [`Landscape`]).

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use super::{error, tick, PlotError};

/// A landscape: a function of two variables as a heat map, with marked points (a critical set), a field of
/// arrows (a gradient flow) and a path (a run's trajectory) on top — the picture of Arbel & Mairal's Fig. 1.
///
/// ```
/// use bilevel_runtime::plot::Landscape;
///
/// // f(a, b) = (a² + b² − 1)²: a ring of minima.
/// let f = |a: f64, b: f64| (a * a + b * b - 1.0).powi(2);
/// let mut map = Landscape::sample("G(x, ·)", ("y[0]", -2.0..2.0), ("y[1]", -2.0..2.0), 40, f);
/// map.path = vec![(0.6, 0.8), (0.7, 0.7)];
/// let svg = map.to_svg().unwrap();
/// assert!(svg.starts_with("<svg") && svg.contains("y[0]"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Landscape {
    /// The title.
    pub title: String,
    /// The horizontal axis: its label and range.
    pub x: (String, Range<f64>),
    /// The vertical axis: its label and range.
    pub y: (String, Range<f64>),
    /// The values on a regular grid, `values[row][col]` at the centres of the cells (row 0 at the bottom).
    pub values: Vec<Vec<f64>>,
    /// Points marked with dots (e.g. where the gradient vanishes).
    pub marks: Vec<(f64, f64)>,
    /// Arrows from a point to a point (e.g. the direction of gradient descent).
    pub arrows: Vec<((f64, f64), (f64, f64))>,
    /// A path drawn as a line with its points (e.g. the iterates of a run), its start circled.
    pub path: Vec<(f64, f64)>,
}

impl Landscape {
    /// The values of `f` on a `cells × cells` grid over the two ranges (at [`Landscape::centres`]), with no
    /// marks, arrows or path.
    pub fn sample(
        title: &str,
        x: (&str, Range<f64>),
        y: (&str, Range<f64>),
        cells: usize,
        f: impl Fn(f64, f64) -> f64,
    ) -> Landscape {
        let (xs, ys) = (Self::centres(&x.1, cells), Self::centres(&y.1, cells));
        let values = ys.iter().map(|&b| xs.iter().map(|&a| f(a, b)).collect()).collect();
        Landscape::new(title, x, y, values)
    }

    /// The landscape of `values` (`values[row][col]` at the [`Landscape::centres`] of the ranges), with no marks,
    /// arrows or path.
    pub fn new(title: &str, x: (&str, Range<f64>), y: (&str, Range<f64>), values: Vec<Vec<f64>>) -> Landscape {
        Landscape {
            title: title.to_string(),
            x: (x.0.to_string(), x.1),
            y: (y.0.to_string(), y.1),
            values,
            marks: Vec::new(),
            arrows: Vec::new(),
            path: Vec::new(),
        }
    }

    /// The centres of `cells` equal cells over `range`.
    pub fn centres(range: &Range<f64>, cells: usize) -> Vec<f64> {
        (0..cells).map(|k| range.start + (k as f64 + 0.5) * (range.end - range.start) / cells as f64).collect()
    }

    /// The landscape as an SVG document. Colours follow `log(1 + (v − min) / scale)`, so that the low-lying
    /// region, where a lower level's solutions are, keeps its detail; non-finite values are grey.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (640, 600)).into_drawing_area();
            root.fill(&WHITE).map_err(error)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(42)
                .y_label_area_size(60)
                .build_cartesian_2d(self.x.1.clone(), self.y.1.clone())
                .map_err(error)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(&self.x.0)
                .y_desc(&self.y.0)
                .x_label_formatter(&|v| tick(*v))
                .y_label_formatter(&|v| tick(*v))
                .draw()
                .map_err(error)?;
            chart.draw_series(self.cells()).map_err(error)?;
            let dark = RGBColor(20, 20, 20);
            chart.draw_series(self.marks.iter().map(|&p| Circle::new(p, 2, dark.filled()))).map_err(error)?;
            let arrow = WHITE.mix(0.8).stroke_width(1);
            chart
                .draw_series(
                    self.arrows.iter().flat_map(|&(from, to)| {
                        head(from, to).into_iter().map(move |seg| PathElement::new(seg, arrow))
                    }),
                )
                .map_err(error)?;
            let red = RGBColor(220, 40, 40);
            chart.draw_series(LineSeries::new(self.path.iter().copied(), red.stroke_width(2))).map_err(error)?;
            chart.draw_series(self.path.iter().map(|&p| Circle::new(p, 2, red.filled()))).map_err(error)?;
            if let Some(&start) = self.path.first() {
                chart.draw_series([Circle::new(start, 6, red.stroke_width(2))]).map_err(error)?;
            }
            root.present().map_err(error)?;
        }
        Ok(svg)
    }

    /// Writes the landscape to an SVG file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_svg()?).map_err(|e| PlotError(format!("cannot write {}: {e}", path.display())))
    }

    /// The coloured cells.
    fn cells(&self) -> Vec<Rectangle<(f64, f64)>> {
        let finite: Vec<f64> = self.values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // The scale: the lowest decile's distance above the minimum, so that the low-lying region, where the
        // solutions are, spans a good part of the colours.
        let mut above: Vec<f64> = finite.iter().map(|v| v - lo).collect();
        above.sort_by(f64::total_cmp);
        let scale = above.get(above.len() / 10).copied().filter(|s| *s > 0.0).unwrap_or(1.0);
        let top = (1.0 + (hi - lo) / scale).ln().max(f64::MIN_POSITIVE);
        let rows = self.values.len();
        let mut cells = Vec::new();
        for (r, row) in self.values.iter().enumerate() {
            let cols = row.len();
            for (c, &v) in row.iter().enumerate() {
                let corner = |i: usize, j: usize| {
                    let x = self.x.1.start + (self.x.1.end - self.x.1.start) * i as f64 / cols as f64;
                    let y = self.y.1.start + (self.y.1.end - self.y.1.start) * j as f64 / rows as f64;
                    (x, y)
                };
                let color =
                    if v.is_finite() { ramp((1.0 + (v - lo) / scale).ln() / top) } else { RGBColor(160, 160, 160) };
                cells.push(Rectangle::new([corner(c, r), corner(c + 1, r + 1)], color.filled()));
            }
        }
        cells
    }
}

/// A dark-blue → teal → yellow colour ramp for `t` in [0, 1].
fn ramp(t: f64) -> RGBColor {
    let stops = [(0.0, (30, 20, 90)), (0.5, (30, 150, 140)), (1.0, (250, 230, 90))];
    let t = t.clamp(0.0, 1.0);
    let k = if t <= 0.5 { 0 } else { 1 };
    let (t0, a) = stops[k];
    let (t1, b) = stops[k + 1];
    let s = (t - t0) / (t1 - t0);
    let mix = |p: u8, q: u8| (f64::from(p) + (f64::from(q) - f64::from(p)) * s).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The shaft and the two barbs of an arrow.
fn head(from: (f64, f64), to: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let barb = |angle: f64| {
        let (s, c) = angle.sin_cos();
        (to.0 - 0.3 * (c * dx - s * dy), to.1 - 0.3 * (s * dx + c * dy))
    };
    vec![vec![from, to], vec![barb(0.5), to, barb(-0.5)]]
}
