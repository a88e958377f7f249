//! `bilevel.Result`: a run's outcome and trace as NumPy arrays.

use bilevel::{Algorithm, Method, Record, Run};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The outcome of a run, as SciPy's `OptimizeResult` holds one: the final point, F there, why it stopped, and
/// the trace as a dict of NumPy arrays (one `pandas.DataFrame(result.trace)` away from a table).
#[pyclass(module = "bilevel._bilevel", name = "Result", frozen, get_all)]
pub(crate) struct RunResult {
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
    /// Every option of the algorithm with its value (Python names), e.g. `{"lower_step": "0.2", ...}`.
    options: Py<PyDict>,
    /// The start the run began from (after projection onto the box): `solve(problem, method, r.x0, r.y0,
    /// **r.options)` makes the same run again.
    x0: Py<PyArray1<f64>>,
    y0: Py<PyArray1<f64>>,
    /// Each kept record's values: `iteration`, `x` and `y` (one row per record), `upper`, `lower`,
    /// `lower_grad_norm`, `dir_norm`, `bgs_residual`, `upper_at_solution` (NaN where not computed), `seconds`,
    /// and the algorithm's own metrics.
    trace: Py<PyDict>,
}

/// The fields of a result by name, in the order pickling writes and reads them.
const FIELDS: [&str; 17] = [
    "x",
    "y",
    "fun",
    "fun_at_solution",
    "status",
    "success",
    "message",
    "nit",
    "seconds",
    "warnings",
    "notes",
    "method",
    "settings",
    "options",
    "x0",
    "y0",
    "trace",
];

#[pymethods]
impl RunResult {
    /// Pickling (a result travels back from a Dask or multiprocessing worker): the fields by name.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let py = slf.py();
        let state = PyDict::new(py);
        for name in FIELDS {
            state.set_item(name, slf.getattr(name)?)?;
        }
        Ok((py.import("bilevel._bilevel")?.getattr("_result")?, (state,)))
    }

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

pub(crate) fn result_of(
    py: Python<'_>,
    method: &Method,
    run: &Run,
    (status, message): (&str, String),
) -> PyResult<RunResult> {
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
        options: options_dict(py, method)?.unbind(),
        x0: PyArray1::from_slice(py, run.trace[0].x.as_slice()).unbind(),
        y0: PyArray1::from_slice(py, run.trace[0].y.as_slice()).unbind(),
        trace: trace_dict(py, run)?.unbind(),
    })
}

/// The options of `method` by their Python names, as values Python reads (numbers as numbers), without those
/// left unset (`tol` when there is none), so that `solve(..., **result.options)` makes the same run.
fn options_dict<'py>(py: Python<'py>, method: &Method) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (name, value) in method.options().into_iter().filter(|(_, v)| v != "none") {
        let key = name.replace('-', "_");
        match value.parse::<f64>() {
            Ok(v) if value.parse::<i64>().is_ok() => dict.set_item(key, v as i64)?,
            Ok(v) => dict.set_item(key, v)?,
            Err(_) => match value.as_str() {
                "true" => dict.set_item(key, true)?,
                "false" => dict.set_item(key, false)?,
                _ => dict.set_item(key, value)?,
            },
        }
    }
    Ok(dict)
}

/// A result from its pickled fields (see `Result.__reduce__`).
#[pyfunction]
pub(crate) fn _result(state: &Bound<'_, PyDict>) -> PyResult<RunResult> {
    let get = |name: &str| {
        state.get_item(name)?.ok_or_else(|| pyo3::exceptions::PyKeyError::new_err(format!("result field {name}")))
    };
    Ok(RunResult {
        x: get("x")?.extract()?,
        y: get("y")?.extract()?,
        fun: get("fun")?.extract()?,
        fun_at_solution: get("fun_at_solution")?.extract()?,
        status: get("status")?.extract()?,
        success: get("success")?.extract()?,
        message: get("message")?.extract()?,
        nit: get("nit")?.extract()?,
        seconds: get("seconds")?.extract()?,
        warnings: get("warnings")?.extract()?,
        notes: get("notes")?.extract()?,
        method: get("method")?.extract()?,
        settings: get("settings")?.extract()?,
        options: get("options")?.extract()?,
        x0: get("x0")?.extract()?,
        y0: get("y0")?.extract()?,
        trace: get("trace")?.extract()?,
    })
}
