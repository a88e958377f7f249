//! [`TextProblem`]: a problem evaluated from its text, with or without data — what the `bilevel` tool and the
//! Python package run.

use std::ops::ControlFlow;

use bilevel_dsl::Model;
use bilevel_runtime::data::{Array, Sparse};
use bilevel_runtime::matrix_free::{solve_lower, LowerSolve};
use bilevel_runtime::{Algorithm, MatrixFreeProblem, Method, SolveResult};

use super::{DataTapeProblem, Slices, TapeError, TapeProblem};

/// A checked problem ready to run from its text: through dense tapes without data (their products into slices,
/// with the dense blocks as a capability), through loop tapes with data.
///
/// ```
/// use bilevel::tape::TextProblem;
/// use bilevel::Method;
/// let text = "problem Shift { upper x: real; lower y: real; minimize upper: (y - 1)^2 + 0.1 * x^2;
///     minimize lower: (y - x)^2; }";
/// let problem = TextProblem::new(&bilevel_dsl::compile(text).unwrap(), Vec::new()).unwrap();
/// let (x0, y0) = problem.start();
/// let aid = Method::from_options("aid", &[("lower-step", "0.25"), ("upper-step", "0.5"), ("iters", "200")]).unwrap();
/// let run = problem.solve_observed(&aid, (&x0, &y0), &mut |_, _| std::ops::ControlFlow::Continue(())).unwrap();
/// assert!((run.x()[0] - 1.0 / 1.1).abs() < 1e-6);
/// ```
#[allow(clippy::large_enum_variant)] // one per problem, never moved in a loop
#[derive(Clone, Debug)]
pub enum TextProblem {
    /// A problem without data.
    Dense(TapeProblem),
    /// A problem with `dim` and `data`, its data attached.
    Data(DataTapeProblem),
}

impl TextProblem {
    /// The problem `model` with its data items by name (none for a problem without data).
    pub fn new(model: &Model, data: Vec<(String, Array)>) -> Result<TextProblem, TapeError> {
        if model.has_data() {
            DataTapeProblem::new(model, data).map(TextProblem::Data).map_err(TapeError::Data)
        } else if let Some((name, _)) = data.first() {
            Err(TapeError::Data(format!("the problem has no `data` items, but `{name}` was given")))
        } else {
            TapeProblem::from_model(model).map(TextProblem::Dense)
        }
    }

    /// The problem's name.
    pub fn name(&self) -> &str {
        match self {
            TextProblem::Dense(p) => bilevel_runtime::Problem::name(p),
            TextProblem::Data(p) => MatrixFreeProblem::name(p),
        }
    }

    /// The sizes `(n, m)` of `x` and `y` (bound by the data for a problem with data).
    pub fn dims(&self) -> (usize, usize) {
        match self {
            TextProblem::Dense(p) => MatrixFreeProblem::dims(&Slices(p)),
            TextProblem::Data(p) => MatrixFreeProblem::dims(p),
        }
    }

    /// The start point declared by `start` (zero where not declared).
    pub fn start(&self) -> (Vec<f64>, Vec<f64>) {
        let (x, y) = match self {
            TextProblem::Dense(p) => MatrixFreeProblem::start(&Slices(p)),
            TextProblem::Data(p) => MatrixFreeProblem::start(p),
        };
        (x.as_slice().to_vec(), y.as_slice().to_vec())
    }

    /// Sets `param` `name` to `values` (one value for a number, one per component for a vector).
    pub fn set_param(&mut self, name: &str, values: &[f64]) -> Result<(), String> {
        match self {
            TextProblem::Dense(p) => p.set_param(name, values),
            TextProblem::Data(p) => p.set_param(name, values),
        }
    }

    /// `method` from `(x0, y0)` with `observer` (see [`Algorithm::solve_observed`]).
    pub fn solve_observed(
        &self,
        method: &Method,
        (x0, y0): (&[f64], &[f64]),
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        match self {
            TextProblem::Dense(p) => method.solve_observed(&Slices(p), x0, y0, observer),
            TextProblem::Data(p) => method.solve_observed(p, x0, y0, observer),
        }
    }

    /// Minimizes `G(x, ·)` from `y` (in place) to `‖∇y G‖ ≤ tol` (see [`solve_lower`](bilevel_runtime::matrix_free::solve_lower)).
    pub fn solve_lower(&self, x: &[f64], y: &mut [f64], tol: f64, iters: usize) -> LowerSolve {
        match self {
            TextProblem::Dense(p) => solve_lower(&Slices(p), x, y, tol, iters),
            TextProblem::Data(p) => solve_lower(p, x, y, tol, iters),
        }
    }

    /// `F(x, y)` and `G(x, y)`.
    pub fn values(&self, x: &[f64], y: &[f64]) -> (f64, f64) {
        match self {
            TextProblem::Dense(p) => (Slices(p).upper(x, y), Slices(p).lower(x, y)),
            TextProblem::Data(p) => (p.upper(x, y), p.lower(x, y)),
        }
    }
}

/// The most entries a sparse matrix may have once stored densely (400 MB): the tapes read data densely.
pub const MAX_DENSE_ENTRIES: usize = 50_000_000;

/// A data file for a [`TextProblem`]: a CSV or `.npy` file as it is; a LIBSVM file (`.svm`, `.libsvm`, or any
/// file with `:features` or `:labels` after its path) gives its feature matrix, or with `:labels` its labels.
/// Sparse features are stored densely for the tapes (the same values; a `sparse` item compiled by `bilevel!` reads
/// only the stored entries), up to 5·10⁷ entries.
///
/// ```
/// let dir = std::env::temp_dir().join("bilevel_read_data_doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("d.svm"), "1 1:0.5 3:2\n-1 2:1\n").unwrap();
/// let spec = format!("{}:labels", dir.join("d.svm").display());
/// assert_eq!(bilevel::tape::read_data(&spec).unwrap().as_slice(), &[1.0, -1.0]);
/// let features = bilevel::tape::read_data(dir.join("d.svm").to_str().unwrap()).unwrap();
/// assert_eq!((features.shape(), features.row(0)), (vec![2, 3], &[0.5, 0.0, 2.0][..]));
/// assert!(bilevel::tape::read_data("no/such/file.csv").is_err());
/// ```
pub fn read_data(spec: &str) -> Result<Array, String> {
    let (path, part) = match spec.rsplit_once(':') {
        Some((path, part @ ("labels" | "features"))) => (path, Some(part)),
        _ => (spec, None),
    };
    let libsvm = part.is_some() || [".svm", ".libsvm"].iter().any(|e| path.to_ascii_lowercase().ends_with(e));
    if !libsvm {
        return Array::read(path).map_err(|e| e.to_string());
    }
    let file = Sparse::read_libsvm(path).map_err(|e| e.to_string())?;
    if part == Some("labels") {
        return Ok(file.labels);
    }
    let shape = file.features.shape();
    if shape[0].saturating_mul(shape[1]) > MAX_DENSE_ENTRIES {
        return Err(format!(
            "the features are {} × {}, {} entries once stored densely as the tapes store data (at most \
             {MAX_DENSE_ENTRIES}); run the problem compiled with `bilevel!`, whose `sparse` items read only the {} \
             stored entries",
            shape[0],
            shape[1],
            shape[0].saturating_mul(shape[1]),
            file.features.nnz()
        ));
    }
    Ok(file.features.to_dense())
}
