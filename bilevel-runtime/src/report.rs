//! Result rows of the reference examples: one line per algorithm and setting, printed as an aligned table.

use std::fmt::Write;

use nalgebra::{DefaultAllocator, Dim};

use crate::dims::Alloc;
use crate::trace::Run;

/// One row of a results table: which algorithm with which settings reached which point.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The algorithm's name, e.g. `itd`.
    pub algorithm: String,
    /// Its settings, e.g. `T=5 α=0.2 γ=0.5 K=3000`.
    pub settings: String,
    /// Final upper variable.
    pub x: Vec<f64>,
    /// Final lower variable.
    pub y: Vec<f64>,
    /// `F` at the final point.
    pub upper: f64,
    /// `G` at the final point.
    pub lower: f64,
    /// `‖∇y G‖` at the final point.
    pub lower_grad_norm: f64,
    /// What the reference says, if anything (free text, e.g. `x → 0.463026`).
    pub expected: String,
}

impl Row {
    /// The row of a finished run.
    pub fn of<N: Dim, M: Dim>(algorithm: &str, settings: &str, run: &Run<N, M>, expected: &str) -> Row
    where
        DefaultAllocator: Alloc<N, M>,
    {
        let last = run.last();
        Row {
            algorithm: algorithm.into(),
            settings: settings.into(),
            x: last.x.iter().copied().collect(),
            y: last.y.iter().copied().collect(),
            upper: last.upper,
            lower: last.lower,
            lower_grad_norm: last.lower_grad_norm,
            expected: expected.into(),
        }
    }
}

fn vector(v: &[f64]) -> String {
    let parts: Vec<String> = v.iter().map(|c| format!("{c:.6}")).collect();
    format!("({})", parts.join(", "))
}

/// The rows as an aligned text table with a header.
///
/// ```
/// use bilevel_runtime::report::{table, Row};
/// let row = Row { algorithm: "itd".into(), settings: "T=5".into(), x: vec![0.4], y: vec![0.4, 0.0],
///                 upper: 0.25, lower: -0.08, lower_grad_norm: 0.0, expected: "x → 0.402028".into() };
/// assert!(table(&[row]).contains("itd"));
/// ```
pub fn table(rows: &[Row]) -> String {
    let header = ["algorithm", "settings", "x", "y", "F", "G", "‖∇y G‖", "expected"].map(String::from);
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.algorithm.clone(),
                r.settings.clone(),
                vector(&r.x),
                vector(&r.y),
                format!("{:.6}", r.upper),
                format!("{:.6}", r.lower),
                format!("{:.2e}", r.lower_grad_norm),
                r.expected.clone(),
            ]
        })
        .collect();
    let width =
        |k: usize| cells.iter().map(|c| c[k].chars().count()).chain([header[k].chars().count()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..8).map(width).collect();
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&cells) {
        let padded: Vec<String> =
            line.iter().zip(&widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    }
    out
}
