//! The `bilevel` Python package's native module (`bilevel._bilevel`): problems from their text, checked at
//! construction and run through the tapes (no Rust toolchain at run time), the algorithms built from the one
//! option table, and runs returned as NumPy arrays. The Python side (`bilevel/__init__.py`) re-exports it.

use bilevel::options::{markdown, takes, Kind, ALGORITHMS, OPTIONS};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use errors::{DataError, OptionError, ProblemError, RunError};
use problem::{load, Problem};
use result::{_result, RunResult};
use run::{_check, _random_starts, _solve_many, solve};

mod errors;
mod problem;
mod result;
mod run;

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
    m.add_function(wrap_pyfunction!(_result, m)?)?;
    m.add_function(wrap_pyfunction!(_random_starts, m)?)?;
    m.add_function(wrap_pyfunction!(_solve_many, m)?)?;
    m.add_function(wrap_pyfunction!(_check, m)?)?;
    m.add("ALGORITHMS", ALGORITHMS.to_vec())?;
    m.add("ProblemError", py.get_type::<ProblemError>())?;
    m.add("OptionError", py.get_type::<OptionError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    Ok(())
}
