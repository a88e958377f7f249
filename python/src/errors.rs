//! The package's exceptions, and a problem text's mistakes as a `ProblemError`.

use bilevel_dsl::Diagnostic;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
pub fn problem_error(py: Python<'_>, file: &str, text: &str, errors: &[Diagnostic]) -> PyErr {
    let (first, more) = bilevel_dsl::diag::shown(errors);
    let shown: Vec<String> = first.iter().map(|d| d.render(file, text)).chain(more).collect();
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
