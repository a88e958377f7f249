//! `bilevel.solve` and the runs of a sweep: options from Python, the interpreter released, Ctrl-C and callbacks.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use bilevel::data::random_starts;
use bilevel::options::OPTIONS;
use bilevel::{Algorithm, Method, SolveError, SolveResult, Status};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};
use rayon::prelude::*;

use crate::errors::{OptionError, RunError};
use crate::problem::{check_lengths, Problem};
use crate::result::{result_of, RunResult};

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
pub(crate) fn solve(
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
    match finish(py, &method, outcome, interrupted.is_some())? {
        (result, Some(message)) if raise_on_fault => {
            let err = RunError::new_err(message);
            err.value(py).setattr("result", Py::new(py, result)?)?;
            Err(err)
        }
        (result, _) => Ok(result),
    }
}

/// The result of a run of `method` (`interrupted`: stopped by Ctrl-C), and the fault's message if it faulted.
fn finish(
    py: Python<'_>,
    method: &Method,
    outcome: SolveResult,
    interrupted: bool,
) -> PyResult<(RunResult, Option<String>)> {
    match outcome {
        Ok(run) => {
            let (status, message) = match (run.status, interrupted) {
                (Status::MaxIterations, _) => ("max-iterations", format!("ran its {} iterations", run.iterations())),
                (Status::Converged { iteration }, _) => ("converged", format!("converged at iteration {iteration}")),
                (Status::Stopped { iteration }, true) => {
                    ("stopped", format!("interrupted (Ctrl-C) after iteration {iteration}"))
                }
                (Status::Stopped { iteration }, false) => {
                    ("stopped", format!("stopped by the callback after iteration {iteration}"))
                }
            };
            Ok((result_of(py, method, &run, (status, message))?, None))
        }
        Err(SolveError::Options(why)) => Err(OptionError::new_err(format!("{}: {why}", method.name()))),
        Err(fault @ SolveError::Fault { .. }) => {
            let message = fault.to_string();
            let SolveError::Fault { run, .. } = fault else { unreachable!("matched above") };
            Ok((result_of(py, method, &run, ("fault", message.clone()))?, Some(message)))
        }
    }
}

/// The problem's start followed by `k` random starts from `seed` (x uniform in the box where it is bounded, the
/// start ± `range` elsewhere; y the start ± `range`): the starts of `bilevel.sweep`, as the tool's `--starts`.
#[pyfunction]
pub(crate) fn _random_starts(
    problem: &Problem,
    k: usize,
    seed: u64,
    range: f64,
) -> PyResult<Vec<(Vec<f64>, Vec<f64>)>> {
    if !(range.is_finite() && range > 0.0) {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "start_range = {range}: expected a finite number > 0"
        )));
    }
    let (x0, y0) = problem.runnable()?.start();
    let bounds = problem.model.bounds.as_ref().map(|(lo, hi)| (&lo[..], &hi[..]));
    Ok(random_starts((&x0, &y0), bounds, k, seed, range))
}

/// Checks that `method` takes `options` (Python names), raising `OptionError` as a run would.
#[pyfunction]
#[pyo3(signature = (method, options=None))]
pub(crate) fn _check(method: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    method_of(method, options).map(|_| ())
}

/// One run of a sweep: its options (Python names) and its start.
type Point<'py> = (Option<Bound<'py, PyDict>>, Vec<f64>, Vec<f64>);

/// Runs `method` with each `(options, x0, y0)` of `points` on `threads` threads (every core when `None`), in
/// parallel and independently, so the results do not depend on the number of threads; every point's options are
/// checked before any run. Ctrl-C stops the runs under way (each returns what it has) and those not begun.
#[pyfunction]
#[pyo3(signature = (problem, method, points, threads=None))]
pub(crate) fn _solve_many(
    py: Python<'_>,
    problem: &Problem,
    method: &str,
    points: Vec<Point<'_>>,
    threads: Option<usize>,
) -> PyResult<Vec<RunResult>> {
    let p = problem.runnable()?;
    let mut runs = Vec::with_capacity(points.len());
    for (options, x0, y0) in &points {
        check_lengths(p, x0, y0)?;
        runs.push((method_of(method, options.as_ref())?, x0, y0));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    let stop = AtomicBool::new(false);
    let outcomes: Vec<SolveResult> = py.detach(|| {
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let work = scope.spawn(|| {
                let outcomes = pool.install(|| {
                    runs.par_iter()
                        .map(|(m, x0, y0)| {
                            let mut observer = |_: usize, _: usize| match stop.load(Ordering::Relaxed) {
                                true => ControlFlow::Break(()),
                                false => ControlFlow::Continue(()),
                            };
                            p.solve_observed(m, (x0, y0), &mut observer)
                        })
                        .collect()
                });
                done.store(true, Ordering::Relaxed);
                outcomes
            });
            // This thread watches for Ctrl-C (only the main thread hears signals) while the pool runs.
            while !done.load(Ordering::Relaxed) {
                if Python::attach(|py| py.check_signals()).is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            work.join().expect("the runs do not panic")
        })
    });
    let interrupted = stop.load(Ordering::Relaxed);
    runs.iter().zip(outcomes).map(|((m, _, _), outcome)| Ok(finish(py, m, outcome, interrupted)?.0)).collect()
}
