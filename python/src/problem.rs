//! `bilevel.Problem`: a problem's text checked, its params and data attached (NumPy, pandas, SciPy sparse).

use bilevel::data::Array;
use bilevel::tape::{read_data, TapeError, TextProblem, MAX_DENSE_ENTRIES};
use bilevel_dsl::Model;
use numpy::ndarray::Dimension;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{problem_error, DataError};

/// A problem written in the language of `bilevel!`, checked when it is made.
///
/// `Problem(text, data=None, params=None)`: `data` maps each `data` item's name to a float64 NumPy array (a
/// vector, or a matrix row by row), `params` each `param`'s name to a number or a sequence of numbers. Every
/// mistake in the text is a `ProblemError`, data that do not fit a `DataError`.
#[pyclass(module = "bilevel._bilevel", name = "Problem", frozen)]
pub(crate) struct Problem {
    file: String,
    text: String,
    pub(crate) model: Model,
    params: Vec<(String, Vec<f64>)>,
    /// The problem ready to run: `None` for a problem with `data` items none of which were given.
    runnable: Option<TextProblem>,
    /// The data as given (kept so that the problem can be pickled and sent to another process).
    data: Vec<(String, Array)>,
}

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
            _ => Some(TextProblem::new(&model, items.clone()).map_err(|e| match e {
                TapeError::Text(errors) => problem_error(py, &file, &text, &errors),
                other => DataError::new_err(other.to_string()),
            })?),
        };
        let mut problem = Problem { file, text, model, params: Vec::new(), runnable, data: items };
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

    pub(crate) fn runnable(&self) -> PyResult<&TextProblem> {
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
            data: self.data.clone(),
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

    /// Pickling (a problem travels to a Dask or multiprocessing worker): its text, data and params.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (String, String, Bound<'py, PyDict>, Bound<'py, PyDict>))> {
        let py = slf.py();
        let me = slf.get();
        let (data, params) = (PyDict::new(py), PyDict::new(py));
        for (name, array) in &me.data {
            data.set_item(name, to_numpy(py, array)?)?;
        }
        for (name, values) in &me.params {
            params.set_item(name, values.clone())?;
        }
        let restore = slf.get_type().getattr("_restore")?;
        Ok((restore, (me.file.clone(), me.text.clone(), data, params)))
    }

    /// The problem of `text` (read from `file`) with its data and params: what unpickling calls.
    #[staticmethod]
    fn _restore(
        py: Python<'_>,
        file: String,
        text: String,
        data: &Bound<'_, PyDict>,
        params: &Bound<'_, PyDict>,
    ) -> PyResult<Problem> {
        Problem::build(py, (file, text), Some(data), params_of(Some(params))?)
    }

    fn __repr__(&self) -> String {
        let dims = self.dims().map_or("data not attached".to_string(), |(n, m)| format!("n={n}, m={m}"));
        format!("Problem({}, {dims})", self.model.name)
    }
}

/// A NumPy vector handed to Python.
pub(crate) type Vector<'py> = Bound<'py, PyArray1<f64>>;

pub(crate) fn check_lengths(p: &TextProblem, x: &[f64], y: &[f64]) -> PyResult<()> {
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

/// A data file as a NumPy array: CSV or `.npy` as it is; a LIBSVM file (`.svm`, `.libsvm`, or `path:features` /
/// `path:labels`) its feature matrix (densely) or its labels — the files the tool's `--data` reads.
#[pyfunction]
pub(crate) fn load(py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
    let array = py.detach(|| read_data(path)).map_err(DataError::new_err)?;
    Ok(to_numpy(py, &array)?.unbind())
}

/// An array as NumPy holds it: a vector, or a matrix row by row.
fn to_numpy<'py>(py: Python<'py>, array: &Array) -> PyResult<Bound<'py, PyAny>> {
    let values = array.as_slice().to_vec();
    Ok(match array.shape()[..] {
        [rows, cols] => PyArray1::from_vec(py, values).reshape([rows, cols])?.into_any(),
        _ => PyArray1::from_vec(py, values).into_any(),
    })
}
