//! One run of the tool: the problem of a file with its start and params, an algorithm from named options, and
//! the outcome (a fault keeps the trace up to the last finite iterate).

use bilevel::tape::TextProblem;
use bilevel::{Algorithm, Method, Run, SolveError};
use bilevel_dsl::Model;
use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::time::Instant;

use crate::args::ProblemArgs;
use crate::input::{self, bad};
use crate::Failure;

/// A problem ready to run: the checked model, its evaluator (data attached, params set) and the start.
pub struct Prepared {
    pub model: Model,
    pub tape: TextProblem,
    pub start: (Vec<f64>, Vec<f64>),
}

/// Reads, checks and prepares the problem of `args`.
pub fn prepare(args: &ProblemArgs) -> Result<Prepared, Failure> {
    let (model, text) = input::problem(&args.file)?;
    let tape = input::evaluator(&model, &args.data, &args.set).map_err(|e| input::positioned(e, &args.file, &text))?;
    let start = input::start(&model, args.start.as_deref(), tape.start())?;
    Ok(Prepared { model, tape, start })
}

/// The algorithm `algo` with the options given; with `trace_all`, every iterate kept unless `every` was given.
pub fn method(algo: &str, named: &[(&'static str, String)], trace_all: bool) -> Result<Method, Failure> {
    let mut named = named.to_vec();
    if trace_all && !named.iter().any(|(n, _)| *n == "every") {
        named.push(("every", "1".into()));
    }
    let given: Vec<(&str, &str)> = named.iter().map(|(n, v)| (*n, v.as_str())).collect();
    Method::from_options(algo, &given).map_err(|e| bad(e.to_string()))
}

/// How a run ended.
pub struct Outcome {
    pub run: Run,
    /// The fault that ended it, if any.
    pub error: Option<String>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// Runs `method` on the problem from `start` (one engine: a problem without data through its tapes into slices,
/// with its dense blocks; a problem with data through its loop tapes); options the algorithm rejects when it
/// starts are bad input.
pub fn run(method: &Method, problem: &TextProblem, (x0, y0): (&[f64], &[f64])) -> Result<Outcome, Failure> {
    let clock = Instant::now();
    let mut bar = progress_bar(&method.name());
    let outcome = problem.solve_observed(method, (x0, y0), &mut bar);
    let seconds = clock.elapsed().as_secs_f64();
    match outcome {
        Ok(run) => Ok(Outcome { run, error: None, seconds }),
        Err(SolveError::Options(why)) => Err(bad(format!("{}: {why}", method.name()))),
        Err(fault @ SolveError::Fault { .. }) => {
            let message = fault.to_string();
            let SolveError::Fault { run, .. } = fault else { unreachable!("matched above") };
            Ok(Outcome { run: *run, error: Some(message), seconds })
        }
    }
}

/// An observer for a run that shows a progress bar on stderr once the run has taken a second, if stderr is a
/// terminal (nothing otherwise); the bar is cleared when the observer is dropped after the run.
fn progress_bar(label: &str) -> impl FnMut(usize, usize) -> ControlFlow<()> {
    let (terminal, started, label) = (std::io::stderr().is_terminal(), Instant::now(), label.to_string());
    let mut bar: Option<ProgressBar> = None;
    move |k, iters| {
        if terminal && bar.is_none() && started.elapsed().as_secs_f64() > 1.0 {
            let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} iterations, {eta} left")
                .expect("a valid template");
            let b = ProgressBar::new(iters as u64).with_style(style).with_message(label.clone());
            bar = Some(b.with_finish(ProgressFinish::AndClear));
        }
        if let Some(b) = &bar {
            b.set_position(k as u64);
        }
        ControlFlow::Continue(())
    }
}
