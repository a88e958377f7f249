//! The `bilevel` Python package's native module (`bilevel._bilevel`): problems from their text, checked at
//! construction and run through the tapes (no Rust toolchain at run time), the algorithms built from the one
//! option table, and runs returned as NumPy arrays. The Python side (`bilevel/__init__.py`) re-exports it.

use std::ops::ControlFlow;

use bilevel::data::Array;
use bilevel::options::{markdown, takes, Kind, ALGORITHMS, OPTIONS};
use bilevel::tape::{read_data, TapeError, TextProblem};
use bilevel::{Algorithm, Method, Record, Run, SolveError, Status};
use bilevel_dsl::{Diagnostic, Model};
use numpy::ndarray::Dimension;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

create_exception!(
    _bilevel,
    ProblemError,
    PyValueError,
    "A mistake in a problem's text: the message is the positioned diagnostic; `line`, `column` (1-based) and \
     `hint` give its place and the likely fix, `errors` every mistake as (line, column, message, hint)."
);
create_exception!(_bilevel, OptionError, PyValueError, "An unknown option, or a value that does not fit it.");
create_exception!(
    _bilevel,
    DataError,
    PyValueError,
    "Data that do not fit the problem: a missing or unknown item, a wrong shape or dtype, a value that is not finite."
);
create_exception!(
    _bilevel,
    RunError,
    pyo3::exceptions::PyRuntimeError,
    "A run that met a non-finite value or diverged (with `raise_on_fault=True`); `result` holds what it computed."
);

/// A `ProblemError` for `errors` of `text` (the contents of `file`).
fn problem_error(py: Python<'_>, file: &str, text: &str, errors: &[Diagnostic]) -> PyErr {
    let shown: Vec<String> = errors.iter().map(|d| d.render(file, text)).collect();
    let err = ProblemError::new_err(shown.join("\n\n"));
    let places: Vec<(usize, usize, String, Option<String>)> = errors
        .iter()
        .map(|d| {
            let (line, column) = bilevel_dsl::diag::line_col(text, d.span.start);
            (line, column, d.message.clone(), d.hint.clone())
        })
        .collect();
    let value = err.value(py);
    // Setting attributes on a fresh exception object cannot fail.
    if let Some((line, column, _, hint)) = places.first() {
        let _ = value.setattr("line", *line);
        let _ = value.setattr("column", *column);
        let _ = value.setattr("hint", hint.clone());
    }
    let _ = value.setattr("errors", places);
    err
}

/// A problem written in the language of `bilevel!`, checked when it is made.
///
/// `Problem(text, data=None, params=None)`: `data` maps each `data` item's name to a float64 NumPy array (a
/// vector, or a matrix row by row), `params` each `param`'s name to a number or a sequence of numbers. Every
/// mistake in the text is a `ProblemError`, data that do not fit a `DataError`.
#[pyclass(module = "bilevel._bilevel", name = "Problem", frozen)]
struct Problem {
    file: String,
    text: String,
    model: Model,
    params: Vec<(String, Vec<f64>)>,
    /// The problem ready to run: `None` for a problem with `data` items none of which were given.
    runnable: Option<TextProblem>,
}

/// The most entries a sparse matrix may have once stored densely (400 MB), as the tool allows.
const MAX_DENSE_ENTRIES: usize = 50_000_000;

/// The values of a `param` given from Python: a number or a sequence of numbers.
fn param_values(value: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    if let Ok(v) = value.extract::<f64>() {
        return Ok(vec![v]);
    }
    value.extract::<Vec<f64>>()
}

/// A data item from Python: a float64 NumPy array (any memory order; its entries are read in C order).
fn data_array(name: &str, value: &Bound<'_, PyAny>) -> PyResult<Array> {
    let bad = |why: String| DataError::new_err(format!("data `{name}`: {why}"));
    // A SciPy sparse matrix is read densely, as the tapes read data; a pandas DataFrame or Series by its values.
    let value = &if value.hasattr("tocsr")? && value.hasattr("toarray")? {
        let (rows, cols): (usize, usize) = value.getattr("shape")?.extract()?;
        if rows.saturating_mul(cols) > MAX_DENSE_ENTRIES {
            return Err(bad(format!(
                "a sparse {rows} × {cols} matrix is {} entries once stored densely, as the tapes store data (at \
                 most {MAX_DENSE_ENTRIES}); run the problem compiled with `bilevel!` in Rust, whose `sparse` items \
                 read only the stored entries",
                rows.saturating_mul(cols)
            )));
        }
        value.call_method0("toarray")?
    } else if value.hasattr("to_numpy")? {
        value.call_method0("to_numpy")?
    } else {
        value.clone()
    };
    let array: PyReadonlyArrayDyn<'_, f64> = value.extract().map_err(|_| {
        let dtype = value.getattr("dtype").map(|d| d.to_string()).unwrap_or_else(|_| value.get_type().to_string());
        bad(format!("expected a float64 NumPy array, got {dtype}; convert it with `numpy.asarray(a, dtype=float)`"))
    })?;
    let view = array.as_array();
    if let Some((at, v)) = view.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(bad(format!("entry {:?} is {v}: data must be finite", at.as_array_view().to_vec())));
    }
    let values: Vec<f64> = view.iter().copied().collect();
    match *array.shape() {
        [_] => Ok(Array::vector(values)),
        [rows, cols] => Array::matrix(rows, cols, values).map_err(|e| bad(e.to_string())),
        ref other => Err(bad(format!("expected a vector or a matrix, got an array of shape {other:?}"))),
    }
}

impl Problem {
    fn build(
        py: Python<'_>,
        (file, text): (String, String),
        data: Option<&Bound<'_, PyDict>>,
        params: Vec<(String, Vec<f64>)>,
    ) -> PyResult<Problem> {
        let model = bilevel_dsl::compile(&text).map_err(|errors| problem_error(py, &file, &text, &errors))?;
        let mut items = Vec::new();
        if let Some(data) = data {
            for (name, value) in data.iter() {
                let name: String = name.extract()?;
                items.push((name.clone(), data_array(&name, &value)?));
            }
        }
        let runnable = match (model.has_data(), items.is_empty()) {
            (true, true) => None,
            _ => Some(TextProblem::new(&model, items).map_err(|e| match e {
                TapeError::Text(errors) => problem_error(py, &file, &text, &errors),
                other => DataError::new_err(other.to_string()),
            })?),
        };
        let mut problem = Problem { file, text, model, params: Vec::new(), runnable };
        for (name, values) in params {
            problem = problem.set(&name, values)?;
        }
        Ok(problem)
    }

    /// This problem with `param` `name` set to `values`.
    fn set(mut self, name: &str, values: Vec<f64>) -> PyResult<Problem> {
        if let Some(p) = &mut self.runnable {
            p.set_param(name, &values).map_err(|e| PyValueError::new_err(format!("param `{name}`: {e}")))?;
        } else if !self.model.params.iter().any(|p| p.name == name) {
            return Err(PyValueError::new_err(format!("the problem has no param `{name}`")));
        }
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.to_string(), values));
        Ok(self)
    }

    fn runnable(&self) -> PyResult<&TextProblem> {
        self.runnable.as_ref().ok_or_else(|| {
            let names: Vec<&str> = self.model.data.iter().map(|d| d.name.as_str()).collect();
            DataError::new_err(format!(
                "the problem `{}` has data items ({}) and none were given: use `problem.with_data(...)` or \
                 `Problem(text, data={{...}})`",
                self.model.name,
                names.join(", ")
            ))
        })
    }
}

fn params_of(params: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, Vec<f64>)>> {
    let mut out = Vec::new();
    if let Some(params) = params {
        for (name, value) in params.iter() {
            out.push((name.extract()?, param_values(&value)?));
        }
    }
    Ok(out)
}

#[pymethods]
impl Problem {
    #[new]
    #[pyo3(signature = (text, data=None, params=None))]
    fn new(
        py: Python<'_>,
        text: String,
        data: Option<&Bound<'_, PyDict>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Problem> {
        Problem::build(py, ("<problem>".into(), text), data, params_of(params)?)
    }

    /// The problem of a `.bl` file (its mistakes positioned in that file).
    #[staticmethod]
    #[pyo3(signature = (path, data=None, params=None))]
    fn from_file(
        py: Python<'_>,
        path: std::path::PathBuf,
        data: Option<&Bound<'_, PyDict>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Problem> {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("cannot read `{}`: {e}", path.display())))?;
        Problem::build(py, (path.display().to_string(), text), data, params_of(params)?)
    }

    /// The same problem with these data items (float64 NumPy arrays by name).
    #[pyo3(signature = (**data))]
    fn with_data(&self, py: Python<'_>, data: Option<&Bound<'_, PyDict>>) -> PyResult<Problem> {
        Problem::build(py, (self.file.clone(), self.text.clone()), data, self.params.clone())
    }

    /// The same problem with `param` `name` set to `value` (a number, or a sequence for a vector param).
    fn with_param(&self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Problem> {
        let copy = Problem {
            file: self.file.clone(),
            text: self.text.clone(),
            model: self.model.clone(),
            params: self.params.clone(),
            runnable: self.runnable.clone(),
        };
        copy.set(name, param_values(value)?)
    }

    /// The name written after `problem`.
    #[getter]
    fn name(&self) -> String {
        self.model.name.clone()
    }

    /// `(n, m)`, the sizes of `x` and `y` (`None` for a problem with data none of which were given).
    #[getter]
    fn dims(&self) -> Option<(usize, usize)> {
        self.runnable.as_ref().map(TextProblem::dims)
    }

    /// The names of the `param`s, in declaration order.
    #[getter]
    fn params(&self) -> Vec<String> {
        self.model.params.iter().map(|p| p.name.clone()).collect()
    }

    /// The names of the `data` items, in declaration order.
    #[getter]
    fn data_items(&self) -> Vec<String> {
        self.model.data.iter().map(|d| d.name.clone()).collect()
    }

    /// The start `(x0, y0)` the problem declares (zero where it declares none).
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<(Vector<'py>, Vector<'py>)> {
        let (x, y) = self.runnable()?.start();
        Ok((PyArray1::from_vec(py, x), PyArray1::from_vec(py, y)))
    }

    /// The derivatives every algorithm uses, in math notation (what `bilevel derive` prints).
    fn derive(&self) -> String {
        bilevel_dsl::math::derivation(&self.model)
    }

    /// `(F(x, y), G(x, y))`.
    fn values(&self, x: Vec<f64>, y: Vec<f64>) -> PyResult<(f64, f64)> {
        let p = self.runnable()?;
        check_lengths(p, &x, &y)?;
        Ok(p.values(&x, &y))
    }

    /// `y*(x)`: `G(x, ·)` minimized from `y0` (the declared start where not given) to `‖∇y G‖ ≤ tol` by truncated
    /// Newton; returns `(y, converged)`.
    #[pyo3(signature = (x, y0=None, tol=1e-10, iters=100))]
    fn solve_lower<'py>(
        &self,
        py: Python<'py>,
        x: Vec<f64>,
        y0: Option<Vec<f64>>,
        tol: f64,
        iters: usize,
    ) -> PyResult<(Vector<'py>, bool)> {
        let p = self.runnable()?;
        let mut y = y0.unwrap_or_else(|| p.start().1);
        check_lengths(p, &x, &y)?;
        let out = py.detach(|| p.solve_lower(&x, &mut y, tol, iters));
        Ok((PyArray1::from_vec(py, y), out.converged))
    }

    fn __repr__(&self) -> String {
        let dims = self.dims().map_or("data not attached".to_string(), |(n, m)| format!("n={n}, m={m}"));
        format!("Problem({}, {dims})", self.model.name)
    }
}

/// A NumPy vector handed to Python.
type Vector<'py> = Bound<'py, PyArray1<f64>>;

fn check_lengths(p: &TextProblem, x: &[f64], y: &[f64]) -> PyResult<()> {
    let (n, m) = p.dims();
    if x.len() != n || y.len() != m {
        return Err(PyValueError::new_err(format!(
            "the point has lengths ({}, {}), but the problem's are ({n}, {m})",
            x.len(),
            y.len()
        )));
    }
    Ok(())
}

/// The text of an option's value given from Python (`True` → `true`, numbers as Python writes them).
fn option_text(name: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_instance_of::<PyBool>() {
        return Ok(value.extract::<bool>()?.to_string());
    }
    if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() || value.is_instance_of::<PyString>() {
        return Ok(value.str()?.to_string());
    }
    if value.is_none() {
        return Ok("auto".into());
    }
    Err(OptionError::new_err(format!(
        "option {name}: expected a number, a string or a bool, got {}",
        value.get_type().name()?
    )))
}

/// The algorithm `method` with `options` (Python names: `lower_step` for the tool's `--lower-step`).
fn method_of(method: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Method> {
    let mut pairs = Vec::new();
    if let Some(options) = options {
        for (name, value) in options.iter() {
            let name: String = name.extract()?;
            pairs.push((name.replace('_', "-"), option_text(&name, &value)?));
        }
    }
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    Method::from_options(method, &borrowed).map_err(|e| OptionError::new_err(python_names(&e.to_string())))
}

/// `text` with the tool's option names (`--lower-step`) written as Python keywords (`lower_step`).
fn python_names(text: &str) -> String {
    let mut names: Vec<&str> = OPTIONS.iter().map(|o| o.name).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.iter().fold(text.to_string(), |t, n| t.replace(&format!("--{n}"), &n.replace('-', "_")))
}

/// The outcome of a run, as SciPy's `OptimizeResult` holds one: the final point, F there, why it stopped, and
/// the trace as a dict of NumPy arrays (one `pandas.DataFrame(result.trace)` away from a table).
#[pyclass(module = "bilevel._bilevel", name = "Result", frozen, get_all)]
struct RunResult {
    /// The final upper variable.
    x: Py<PyArray1<f64>>,
    /// The final lower variable (for DPBG, its `y = φ_k(x, z)`).
    y: Py<PyArray1<f64>>,
    /// `F(x, y)` at the method's own `y`.
    fun: f64,
    /// `F(x, y*(x))` with the lower level solved accurately at the final `x` (`None` where that solve failed).
    fun_at_solution: Option<f64>,
    /// `"max-iterations"`, `"converged"`, `"stopped"` (by the callback or Ctrl-C) or `"fault"`.
    status: String,
    /// Whether the run ended without a fault.
    success: bool,
    /// Why it ended, in words.
    message: String,
    /// The number of iterations done.
    nit: usize,
    /// The wall time of the iterations, in seconds (the records' metrics excluded).
    seconds: f64,
    /// What the run found doubtful about its settings.
    warnings: Vec<String>,
    /// What the run chose that was not given (e.g. the lower step 1/L_G).
    notes: Vec<String>,
    /// The algorithm's name and settings.
    method: String,
    settings: String,
    /// Each kept record's values: `iteration`, `x` and `y` (one row per record), `upper`, `lower`,
    /// `lower_grad_norm`, `dir_norm`, `bgs_residual`, `upper_at_solution` (NaN where not computed), `seconds`,
    /// and the algorithm's own metrics.
    trace: Py<PyDict>,
}

#[pymethods]
impl RunResult {
    fn __repr__(&self) -> String {
        format!(
            "Result(method={:?}, status={:?}, nit={}, fun={}, fun_at_solution={})",
            self.method,
            self.status,
            self.nit,
            self.fun,
            self.fun_at_solution.map_or("None".to_string(), |v| v.to_string())
        )
    }
}

/// The trace of `run` as a dict of NumPy arrays.
fn trace_dict<'py>(py: Python<'py>, run: &Run) -> PyResult<Bound<'py, PyDict>> {
    let t = &run.trace;
    let column = |f: &dyn Fn(&Record) -> f64| PyArray1::from_vec(py, t.iter().map(f).collect());
    let dict = PyDict::new(py);
    dict.set_item("iteration", PyArray1::from_vec(py, t.iter().map(|r| r.iteration as u64).collect()))?;
    let rows = |f: &dyn Fn(&Record) -> Vec<f64>| PyArray2::from_vec2(py, &t.iter().map(f).collect::<Vec<_>>());
    dict.set_item("x", rows(&|r| r.x.as_slice().to_vec())?)?;
    dict.set_item("y", rows(&|r| r.y.as_slice().to_vec())?)?;
    dict.set_item("upper", column(&|r| r.upper))?;
    dict.set_item("lower", column(&|r| r.lower))?;
    dict.set_item("lower_grad_norm", column(&|r| r.lower_grad_norm))?;
    dict.set_item("dir_norm", column(&|r| r.dir_norm))?;
    dict.set_item("bgs_residual", column(&|r| r.bgs_residual))?;
    dict.set_item("upper_at_solution", column(&|r| r.upper_at_solution.unwrap_or(f64::NAN)))?;
    dict.set_item("seconds", PyArray1::from_slice(py, &run.seconds))?;
    let mut extras: Vec<&str> = Vec::new();
    for (name, _) in t.iter().flat_map(|r| r.extras.iter()) {
        if !extras.contains(&name.as_ref()) {
            extras.push(name);
        }
    }
    for name in extras {
        dict.set_item(name, column(&|r| r.extra(name).unwrap_or(f64::NAN)))?;
    }
    Ok(dict)
}

fn result_of(py: Python<'_>, method: &Method, run: &Run, (status, message): (&str, String)) -> PyResult<RunResult> {
    let last = run.last();
    Ok(RunResult {
        x: PyArray1::from_slice(py, last.x.as_slice()).unbind(),
        y: PyArray1::from_slice(py, last.y.as_slice()).unbind(),
        fun: last.upper,
        fun_at_solution: last.upper_at_solution,
        status: status.into(),
        success: status != "fault",
        message,
        nit: last.iteration,
        seconds: run.seconds.last().copied().unwrap_or(0.0),
        warnings: run.warnings.clone(),
        notes: run.notes.clone(),
        method: method.name(),
        settings: method.settings(),
        trace: trace_dict(py, run)?.unbind(),
    })
}

/// Runs `method` (one of `ALGORITHMS`) on `problem` from `(x0, y0)` (the problem's start where not given), with
/// the tool's options by their Python names (`lower_step=0.2`, `xi="z-cg"`, `every=10`).
///
/// The interpreter is released during the run. `callback(k, iters)`, if given, is called every 64 iterations and
/// at the last; returning `False` stops the run there, as Ctrl-C does (status `"stopped"`, the trace kept). A run
/// that faults returns `success=False` with its finite trace, or raises `RunError` (whose `result` holds it) with
/// `raise_on_fault=True`.
#[pyfunction]
#[pyo3(signature = (problem, method, x0=None, y0=None, *, callback=None, raise_on_fault=false, **options))]
#[allow(clippy::too_many_arguments)]
fn solve(
    py: Python<'_>,
    problem: &Problem,
    method: &str,
    x0: Option<Vec<f64>>,
    y0: Option<Vec<f64>>,
    callback: Option<Py<PyAny>>,
    raise_on_fault: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<RunResult> {
    let method = method_of(method, options)?;
    let p = problem.runnable()?;
    let (sx, sy) = p.start();
    let (x0, y0) = (x0.unwrap_or(sx), y0.unwrap_or(sy));
    check_lengths(p, &x0, &y0)?;
    let mut interrupted: Option<PyErr> = None;
    let mut callback_error: Option<PyErr> = None;
    let outcome = py.detach(|| {
        let mut observer = |k: usize, iters: usize| {
            Python::attach(|py| {
                if let Err(e) = py.check_signals() {
                    interrupted = Some(e);
                    return ControlFlow::Break(());
                }
                match &callback {
                    Some(f) => match f.call1(py, (k, iters)) {
                        Ok(answer) if answer.bind(py).is(PyBool::new(py, false)) => ControlFlow::Break(()),
                        Ok(_) => ControlFlow::Continue(()),
                        Err(e) => {
                            callback_error = Some(e);
                            ControlFlow::Break(())
                        }
                    },
                    None => ControlFlow::Continue(()),
                }
            })
        };
        p.solve_observed(&method, (&x0, &y0), &mut observer)
    });
    if let Some(e) = callback_error {
        return Err(e);
    }
    match outcome {
        Ok(run) => {
            let (status, message) = match (run.status, &interrupted) {
                (Status::MaxIterations, _) => ("max-iterations", format!("ran its {} iterations", run.iterations())),
                (Status::Converged { iteration }, _) => ("converged", format!("converged at iteration {iteration}")),
                (Status::Stopped { iteration }, Some(_)) => {
                    ("stopped", format!("interrupted (Ctrl-C) after iteration {iteration}"))
                }
                (Status::Stopped { iteration }, None) => {
                    ("stopped", format!("stopped by the callback after iteration {iteration}"))
                }
            };
            result_of(py, &method, &run, (status, message))
        }
        Err(SolveError::Options(why)) => Err(OptionError::new_err(format!("{}: {why}", method.name()))),
        Err(fault @ SolveError::Fault { .. }) => {
            let message = fault.to_string();
            let SolveError::Fault { run, .. } = fault else { unreachable!("matched above") };
            let result = result_of(py, &method, &run, ("fault", message.clone()))?;
            if raise_on_fault {
                let err = RunError::new_err(message);
                err.value(py).setattr("result", Py::new(py, result)?)?;
                return Err(err);
            }
            Ok(result)
        }
    }
}

/// Every option of the algorithms, described once: a list of dicts with `name` (the Python keyword),
/// `cli` (the tool's `--name`), `kind` and `doc`.
#[pyfunction]
fn options(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    OPTIONS
        .iter()
        .map(|o| {
            let d = PyDict::new(py);
            d.set_item("name", o.name.replace('-', "_"))?;
            d.set_item("cli", format!("--{}", o.name))?;
            let kind = match o.kind {
                Kind::Count => "count".to_string(),
                Kind::Number => "number".to_string(),
                Kind::Step => "step (a number or 'auto')".to_string(),
                Kind::Flag => "flag".to_string(),
                Kind::Choice(words) => format!("one of {}", words.join(", ")),
                Kind::Every => "every (a count or 'end')".to_string(),
            };
            d.set_item("kind", kind)?;
            d.set_item("doc", o.doc)?;
            Ok(d)
        })
        .collect()
}

/// The options of `algorithms` with their defaults, as a Markdown table (what docs/algorithms.md shows).
#[pyfunction]
fn options_table(algorithms: Vec<String>) -> PyResult<String> {
    let names: Vec<&str> = algorithms.iter().map(String::as_str).collect();
    markdown(&names).map_err(|e| OptionError::new_err(e.to_string()))
}

/// A data file as a NumPy array: CSV or `.npy` as it is; a LIBSVM file (`.svm`, `.libsvm`, or `path:features` /
/// `path:labels`) its feature matrix (densely) or its labels — the files the tool's `--data` reads.
#[pyfunction]
fn load(py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
    let array = py.detach(|| read_data(path)).map_err(DataError::new_err)?;
    let values = array.as_slice().to_vec();
    Ok(match array.shape()[..] {
        [rows, cols] => PyArray1::from_vec(py, values).reshape([rows, cols])?.into_any().unbind(),
        _ => PyArray1::from_vec(py, values).into_any().unbind(),
    })
}

/// Whether algorithm `algo` takes option `name` (the tool's name), for `compare`.
#[pyfunction]
fn _takes(algo: &str, name: &str) -> bool {
    takes(algo, name)
}

#[pymodule]
fn _bilevel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Problem>()?;
    m.add_class::<RunResult>()?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(options, m)?)?;
    m.add_function(wrap_pyfunction!(options_table, m)?)?;
    m.add_function(wrap_pyfunction!(_takes, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add("ALGORITHMS", ALGORITHMS.to_vec())?;
    m.add("ProblemError", py.get_type::<ProblemError>())?;
    m.add("OptionError", py.get_type::<OptionError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    Ok(())
}
