//! Result rows: one line per algorithm and setting, printed as an aligned table or as JSON Lines.

use std::fmt::Write;

use nalgebra::{DefaultAllocator, OVector};

use crate::algorithm::Algorithm;
use crate::dims::Alloc;
use crate::error::{SolveError, SolveResult};
use crate::json;
use crate::method::Method;
use crate::problem::Problem;
use crate::trace::Run;

/// One row of a results table: which algorithm with which settings reached which point.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The algorithm's name, e.g. `itd`.
    pub algorithm: String,
    /// Its settings, e.g. `T=5 M=0 α=0.2 γ=0.5 K=3000 warm`.
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
    /// The BGS residual at the final point.
    pub bgs_residual: f64,
    /// What the reference says (free text, e.g. `x → 0.463026`); not part of the JSON output.
    pub expected: String,
}

impl Row {
    /// The row of a finished run of `algorithm`.
    pub fn of(algorithm: &impl Algorithm, run: &Run, expected: &str) -> Row {
        let last = run.last();
        Row {
            algorithm: algorithm.name(),
            settings: algorithm.settings(),
            x: last.x.iter().copied().collect(),
            y: last.y.iter().copied().collect(),
            upper: last.upper,
            lower: last.lower,
            lower_grad_norm: last.lower_grad_norm,
            bgs_residual: last.bgs_residual,
            expected: expected.into(),
        }
    }

    /// The row as one JSON object with the keys `algorithm`, `settings`, `x`, `y`, `upper`, `lower`,
    /// `lower_grad_norm`, `bgs_residual`.
    pub fn to_json(&self) -> String {
        json::object(&[
            ("algorithm", json::string(&self.algorithm)),
            ("settings", json::string(&self.settings)),
            ("x", json::array(&self.x)),
            ("y", json::array(&self.y)),
            ("upper", json::number(self.upper)),
            ("lower", json::number(self.lower)),
            ("lower_grad_norm", json::number(self.lower_grad_norm)),
            ("bgs_residual", json::number(self.bgs_residual)),
        ])
    }
}

/// One run to make: a problem instance, an algorithm with its settings, a start and what to expect.
#[derive(Clone, Debug)]
pub struct Case<P: Problem>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    /// The problem instance (with its parameter values).
    pub problem: P,
    /// The algorithm.
    pub method: Method,
    /// The upper start `x0`.
    pub x0: OVector<f64, P::N>,
    /// The lower start `y0` (for DPBG the initialization `z0`).
    pub y0: OVector<f64, P::M>,
    /// What the reference says.
    pub expected: String,
}

impl<P: Problem> Case<P>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    /// Runs the case.
    pub fn run(&self) -> SolveResult {
        self.method.solve(&self.problem, &self.x0, &self.y0)
    }

    /// Runs the case and makes its row.
    pub fn row(&self) -> Result<Row, SolveError> {
        self.run().map(|run| Row::of(&self.method, &run, &self.expected))
    }
}

/// Runs every case and returns the rows of the runs that finished. A failed run is reported on standard error
/// with its iteration and cause.
pub fn run_cases<P: Problem>(cases: &[Case<P>]) -> Vec<Row>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let mut rows = Vec::new();
    for case in cases {
        match case.row() {
            Ok(row) => rows.push(row),
            Err(e) => eprintln!("{} ({}): {e}", case.method.name(), case.method.settings()),
        }
    }
    rows
}

/// Prints rows as JSON Lines when `json`, else as a table under `title`.
pub fn print_rows(title: &str, rows: &[Row], json: bool) {
    if json {
        for row in rows {
            println!("{}", row.to_json());
        }
    } else {
        println!("{title}\n");
        println!("{}", table(rows));
    }
}

/// Whether the program was started with `--json` (the examples' switch to JSON Lines output).
pub fn json_requested() -> bool {
    std::env::args().skip(1).any(|a| a == "--json")
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
///                 upper: 0.25, lower: -0.08, lower_grad_norm: 0.0, bgs_residual: 0.1,
///                 expected: "x → 0.402028".into() };
/// assert!(table(&[row]).contains("itd"));
/// ```
pub fn table(rows: &[Row]) -> String {
    let header = ["algorithm", "settings", "x", "y", "F", "G", "‖∇y G‖", "bgs_residual", "expected"];
    let cells: Vec<Vec<String>> = rows
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
                format!("{:.2e}", r.bgs_residual),
                r.expected.clone(),
            ]
            .to_vec()
        })
        .collect();
    aligned(&header, &cells)
}

/// Cells as a text table: a header line, then one line per row, each column as wide as its widest cell.
///
/// ```
/// use bilevel_runtime::report::aligned;
/// let text = aligned(&["a", "bb"], &[vec!["123".into(), "4".into()]]);
/// assert_eq!(text, "a    bb\n123  4\n");
/// ```
pub fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let width = |k: usize| {
        rows.iter().filter_map(|c| c.get(k)).map(|c| c.chars().count()).chain([header[k].chars().count()]).max()
    };
    let widths: Vec<usize> = (0..header.len()).map(|k| width(k).unwrap_or(0)).collect();
    let mut out = String::new();
    for line in std::iter::once(&header).chain(rows) {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    }
    out
}
