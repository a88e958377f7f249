//! `bilevel compare`: several algorithms from the same start, a table of where each ended and their convergence
//! plotted together. Each algorithm takes the options it has; an option none of them has is an error. The exit
//! code is 1 when a run failed (its row says where), after the table.

use bilevel::options::takes;
use bilevel::report::aligned;
use bilevel::{Algorithm, Method};

use crate::args::CompareArgs;
use crate::input::bad;
use crate::report::{report, Report};
use crate::run::{method, prepare, run, Outcome};
use crate::{plots, Failure};

/// Runs `bilevel compare`.
pub fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let p = prepare(&args.problem)?;
    for algo in &args.algos {
        Method::from_options(algo, &[]).map_err(|e| bad(e.to_string()))?;
    }
    let named = args.options.named();
    if let Some((name, value)) = named.iter().find(|(n, _)| !args.algos.iter().any(|a| takes(a, n))) {
        return Err(bad(format!("--{name} {value}: none of {} takes it", args.algos.join(", "))));
    }
    let mut runs: Vec<(Method, Outcome)> = Vec::new();
    for algo in &args.algos {
        let own: Vec<(&'static str, String)> = named.iter().filter(|(n, _)| takes(algo, n)).cloned().collect();
        let m = method(algo, &own, args.plot.is_some())?;
        let out = run(&m, &p.tape, (&p.start.0, &p.start.1))?;
        runs.push((m, out));
    }
    if let Some(path) = &args.plot {
        let labelled: Vec<(String, &_)> = runs.iter().map(|(m, o)| (m.name(), &o.run)).collect();
        plots::convergence(&labelled).save(path).map_err(|e| bad(e.to_string()))?;
    }
    let name = p.tape.name();
    let reports: Vec<Report> =
        runs.iter().map(|(m, o)| report(name, m, &o.run, o.seconds, o.error.clone(), false)).collect();
    if args.json {
        println!("{}", serde_json::to_string(&reports).expect("numbers and strings serialize"));
    } else {
        let rows: Vec<Vec<String>> = reports.iter().map(row).collect();
        print!("{}", aligned(&HEADER, &rows));
    }
    match runs.iter().any(|(_, o)| o.error.is_some()) {
        true => Err(Failure::Run),
        false => Ok(()),
    }
}

/// The columns of a table of runs: `F` at the method's own `y`, and `F(x, y*(x))` at the lower level solved at
/// the final `x` (the fair comparison of methods that end at different `y`; `—` where the solve did not converge).
pub const HEADER: [&str; 9] =
    ["algorithm", "status", "iterations", "x", "F", "F(x, y*(x))", "‖∇y G‖", "BGS residual", "seconds"];

/// One line of a table of runs: x itself when short, its norm otherwise.
pub fn row(r: &Report) -> Vec<String> {
    let x = if r.x.len() <= 3 {
        let parts: Vec<String> = r.x.iter().map(|v| format!("{v:.6}")).collect();
        format!("({})", parts.join(", "))
    } else {
        format!("‖x‖ = {:.6}", r.x.iter().map(|v| v * v).sum::<f64>().sqrt())
    };
    vec![
        r.algorithm.clone(),
        r.status.to_string(),
        r.iterations.to_string(),
        x,
        format!("{:.6e}", r.upper),
        r.upper_at_solution.map_or_else(|| "—".into(), |f| format!("{f:.6e}")),
        format!("{:.2e}", r.lower_grad_norm),
        format!("{:.2e}", r.bgs_residual),
        format!("{:.3}", r.seconds),
    ]
}
