//! `bilevel solve`: one algorithm on one problem; a summary, or one JSON object (`--json`, see `report.rs`), and
//! optionally the trace as CSV and convergence plots.

use bilevel::Algorithm;

use crate::args::SolveArgs;
use crate::input::bad;
use crate::report::{report, summary};
use crate::run::{method, prepare, run};
use crate::{plots, Failure};

/// Runs `bilevel solve`.
pub fn solve(args: &SolveArgs) -> Result<(), Failure> {
    let p = prepare(&args.problem)?;
    let keep_all = args.trace || args.trace_csv.is_some() || args.plot.is_some();
    let method = method(&args.algo, &args.options.named(), keep_all)?;
    let out = run(&method, &p.tape, (&p.start.0, &p.start.1))?;
    if let Some(path) = &args.trace_csv {
        std::fs::write(path, out.run.to_csv()).map_err(|e| bad(format!("cannot write `{}`: {e}", path.display())))?;
    }
    if let Some(path) = &args.plot {
        plots::convergence(&[(method.name(), &out.run)]).save(path).map_err(|e| bad(e.to_string()))?;
    }
    let report = report(p.tape.name(), &method, &out.run, out.seconds, out.error.clone(), args.trace);
    if args.json {
        println!("{}", serde_json::to_string(&report).expect("numbers and strings serialize"));
    } else {
        print!("{}", summary(&report, &method));
    }
    match out.error {
        None => Ok(()),
        Some(e) => {
            if !args.json {
                eprintln!("error: the run failed: {e}");
            }
            Err(Failure::Run)
        }
    }
}
