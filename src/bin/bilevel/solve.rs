//! `bilevel solve`: one algorithm on one problem; a summary, or one JSON object (`--json`) whose fields are the
//! tool's contract: `problem`, `algorithm`, `options`, `iterations`, `status`, `x`, `y`, `upper`, `lower`,
//! `lower_grad_norm`, `bgs_residual`, `seconds` (wall time of the run), `warnings`, `notes`, and `error` and
//! `trace` when there are.

use bilevel::nalgebra::Dyn;
use bilevel::{Algorithm, Method, Problem, Record, Run, SolveError, Status};
use serde::Serialize;
use std::time::Instant;

use crate::args::SolveArgs;
use crate::input::{self, bad};
use crate::Failure;

/// One record of the trace.
#[derive(Serialize)]
struct TraceRow {
    k: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    upper: f64,
    lower: f64,
    lower_grad_norm: f64,
    bgs_residual: f64,
    dir_norm: f64,
}

impl TraceRow {
    fn of(r: &Record<Dyn, Dyn>) -> TraceRow {
        TraceRow {
            k: r.iteration,
            x: r.x.as_slice().to_vec(),
            y: r.y.as_slice().to_vec(),
            upper: r.upper,
            lower: r.lower,
            lower_grad_norm: r.lower_grad_norm,
            bgs_residual: r.bgs_residual,
            dir_norm: r.dir_norm,
        }
    }
}

/// The result of `bilevel solve --json`.
#[derive(Serialize)]
struct Report {
    problem: String,
    algorithm: String,
    options: serde_json::Map<String, serde_json::Value>,
    iterations: usize,
    status: &'static str,
    x: Vec<f64>,
    y: Vec<f64>,
    upper: f64,
    lower: f64,
    lower_grad_norm: f64,
    bgs_residual: f64,
    seconds: f64,
    warnings: Vec<String>,
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<Vec<TraceRow>>,
}

/// Runs `bilevel solve`.
pub fn solve(args: &SolveArgs) -> Result<(), Failure> {
    let (model, _) = input::problem(&args.file)?;
    let tape = input::tape(&model, &args.set)?;
    let (x0, y0) = tape.start();
    let (x0, y0) = input::start(&model, args.start.as_deref(), (x0.as_slice().to_vec(), y0.as_slice().to_vec()))?;
    let mut named = args.options.named();
    if args.trace && !named.iter().any(|(n, _)| *n == "every") {
        named.push(("every", "1".into()));
    }
    let given: Vec<(&str, &str)> = named.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let method = Method::from_options(&args.algo, &given).map_err(bad)?;
    let (x0, y0) = (x0.into(), y0.into());
    let clock = Instant::now();
    let outcome = method.solve(&tape, &x0, &y0);
    let seconds = clock.elapsed().as_secs_f64();
    let (run, error) = match outcome {
        Ok(run) => (run, None),
        Err(SolveError::Options(why)) => return Err(bad(format!("{}: {why}", args.algo))),
        Err(fault @ SolveError::Fault { .. }) => {
            let message = fault.to_string();
            let SolveError::Fault { run, .. } = fault else { unreachable!("matched above") };
            (*run, Some(message))
        }
    };
    let report = report(tape.name(), &method, &run, seconds, error.clone(), args.trace);
    if args.json {
        println!("{}", serde_json::to_string(&report).expect("numbers and strings serialize"));
    } else {
        print!("{}", summary(&report, &method));
    }
    match error {
        None => Ok(()),
        Some(e) => {
            if !args.json {
                eprintln!("error: the run failed: {e}");
            }
            Err(Failure::Run)
        }
    }
}

fn report(
    problem: &str,
    method: &Method,
    run: &Run<Dyn, Dyn>,
    seconds: f64,
    error: Option<String>,
    trace: bool,
) -> Report {
    let last = run.last();
    let options = method.options().into_iter().map(|(name, value)| (name.to_string(), option_value(&value))).collect();
    let (status, iterations) = match (&error, run.status) {
        (Some(_), _) => ("diverged", last.iteration),
        (None, Status::Converged { iteration }) => ("converged", iteration),
        (None, Status::MaxIterations) => ("max_iterations", last.iteration),
    };
    Report {
        problem: problem.to_string(),
        algorithm: method.name(),
        options,
        iterations,
        status,
        x: last.x.as_slice().to_vec(),
        y: last.y.as_slice().to_vec(),
        upper: last.upper,
        lower: last.lower,
        lower_grad_norm: last.lower_grad_norm,
        bgs_residual: last.bgs_residual,
        seconds,
        warnings: run.warnings.clone(),
        notes: run.notes.clone(),
        error,
        trace: trace.then(|| run.trace.iter().map(TraceRow::of).collect()),
    }
}

/// An option's value in JSON: a number where it is one, `true`/`false` for flags, a string otherwise.
fn option_value(value: &str) -> serde_json::Value {
    if let Ok(b) = value.parse::<bool>() {
        return b.into();
    }
    if let Ok(k) = value.parse::<u64>() {
        return k.into();
    }
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => serde_json::Number::from_f64(v).map_or_else(|| value.into(), Into::into),
        _ => value.into(),
    }
}

/// The human summary.
fn summary(r: &Report, method: &Method) -> String {
    let list = |v: &[f64]| {
        let shown: Vec<String> = v.iter().take(8).map(|c| format!("{c:.6}")).collect();
        let more = if v.len() > 8 { format!(", … ({} in all)", v.len()) } else { String::new() };
        format!("[{}{more}]", shown.join(", "))
    };
    let status = match r.status {
        "converged" => format!("converged at iteration {}", r.iterations),
        "max_iterations" => format!("ran its {} iterations", r.iterations),
        _ => format!("failed after iteration {}", r.iterations),
    };
    let mut out = format!(
        "{} on {}: {status} in {:.3} s\n  settings: {}\n  x = {}\n  y = {}\n  F = {:.10e}   G = {:.10e}\n  \
         ‖∇y G‖ = {:.3e}   BGS residual = {:.3e}\n",
        r.algorithm,
        r.problem,
        r.seconds,
        method.settings(),
        list(&r.x),
        list(&r.y),
        r.upper,
        r.lower,
        r.lower_grad_norm,
        r.bgs_residual
    );
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    for n in &r.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out
}
