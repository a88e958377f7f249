//! [`TextProblem`]: a problem evaluated from its text, with or without data — what the `bilevel` tool and the
//! Python package run.

use std::ops::ControlFlow;

use bilevel_dsl::Model;
use bilevel_runtime::data::Array;
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

    /// `F(x, y)` and `G(x, y)`.
    pub fn values(&self, x: &[f64], y: &[f64]) -> (f64, f64) {
        match self {
            TextProblem::Dense(p) => (Slices(p).upper(x, y), Slices(p).lower(x, y)),
            TextProblem::Data(p) => (p.upper(x, y), p.lower(x, y)),
        }
    }
}
