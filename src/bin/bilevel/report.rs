//! What a run reports: the JSON object of `solve --json` (the tool's contract: `problem`, `algorithm`, `options`,
//! `iterations`, `status`, `x`, `y`, `upper`, `lower`, `lower_grad_norm`, `bgs_residual`, `seconds` — the wall
//! time of the run —, `warnings`, `notes`, and `error` and `trace` when there are) and the human summary.

use bilevel::{Algorithm, Method, Record, Run, Status};
use serde::Serialize;

/// One record of the trace.
#[derive(Serialize)]
pub struct TraceRow {
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
    fn of(r: &Record) -> TraceRow {
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
pub struct Report {
    pub problem: String,
    pub algorithm: String,
    pub options: serde_json::Map<String, serde_json::Value>,
    pub iterations: usize,
    pub status: &'static str,
    /// The start the run began from (after projection onto the box), so that any run can be made again.
    pub x0: Vec<f64>,
    pub y0: Vec<f64>,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub upper: f64,
    pub lower: f64,
    pub lower_grad_norm: f64,
    pub bgs_residual: f64,
    /// `F` at the lower level solved from the final `y` (`None` when that solve did not converge).
    pub upper_at_solution: Option<f64>,
    pub seconds: f64,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Vec<TraceRow>>,
}

pub fn report(problem: &str, method: &Method, run: &Run, seconds: f64, error: Option<String>, trace: bool) -> Report {
    let last = run.last();
    let options = method.options().into_iter().map(|(name, value)| (name.to_string(), option_value(&value))).collect();
    let (status, iterations) = match (&error, run.status) {
        (Some(_), _) => ("diverged", last.iteration),
        (None, Status::Converged { iteration }) => ("converged", iteration),
        (None, Status::MaxIterations) => ("max_iterations", last.iteration),
        (None, Status::Stopped { iteration }) => ("stopped", iteration),
    };
    Report {
        problem: problem.to_string(),
        algorithm: method.name(),
        options,
        iterations,
        status,
        x0: run.trace[0].x.as_slice().to_vec(),
        y0: run.trace[0].y.as_slice().to_vec(),
        x: last.x.as_slice().to_vec(),
        y: last.y.as_slice().to_vec(),
        upper: last.upper,
        lower: last.lower,
        lower_grad_norm: last.lower_grad_norm,
        bgs_residual: last.bgs_residual,
        upper_at_solution: last.upper_at_solution,
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
pub fn summary(r: &Report, method: &Method) -> String {
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
    out.push_str(&match r.upper_at_solution {
        Some(f) => format!("  F(x, y*(x)) = {f:.10e}   (F with the lower level solved at this x)\n"),
        None => "  F(x, y*(x)): the lower level could not be solved accurately at this x\n".into(),
    });
    for w in &r.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    for n in &r.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out
}
