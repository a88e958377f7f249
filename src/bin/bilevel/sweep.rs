//! `bilevel sweep`: one algorithm over every combination of a grid of settings, each from the start and from K
//! random starts (`--start-range`; each run's JSON records its start), run in parallel (rayon); the runs are listed best first by a final metric (`--rank-by`; by
//! default `F` at the solved lower level, `upper_at_solution`, which compares runs that end at different `y`
//! fairly; `F` where the lower solve did not converge), failed runs last. Every run is deterministic and independent, so the results do not depend on the
//! number of threads (only the times do).

use bilevel::data::random_starts;
use bilevel::report::aligned;
use bilevel::Method;
use rayon::prelude::*;

use crate::args::{RankBy, SweepArgs};
use crate::compare::{row, HEADER};
use crate::input::bad;
use crate::report::{report, Report};
use crate::run::{method, prepare, run};
use crate::{plots, Failure};

/// A finished run of the sweep: its report, its label, and its trace when a plot needs it.
type Done = (Report, String, Option<bilevel::Run>);

/// One run of the sweep: its settings and start.
struct Point {
    settings: Vec<(&'static str, String)>,
    /// 0 for the problem's start, k for the k-th random start.
    start: usize,
    x0: Vec<f64>,
    y0: Vec<f64>,
}

/// Runs `bilevel sweep`.
pub fn sweep(args: &SweepArgs) -> Result<(), Failure> {
    let p = prepare(&args.problem)?;
    let grid = grid(&args.grid)?;
    let base = args.options.named();
    let bounds = p.model.bounds.as_ref().map(|(lo, hi)| (&lo[..], &hi[..]));
    let starts = random_starts((&p.start.0, &p.start.1), bounds, args.starts, args.start_seed, args.start_range);
    let mut points = Vec::new();
    for combination in &grid {
        let mut settings: Vec<(&'static str, String)> =
            base.iter().filter(|(n, _)| !combination.iter().any(|(c, _)| c == n)).cloned().collect();
        settings.extend(combination.iter().cloned());
        for (k, (x0, y0)) in starts.iter().enumerate() {
            points.push(Point { settings: settings.clone(), start: k, x0: x0.clone(), y0: y0.clone() });
        }
    }
    // Every setting is checked (its method built) before any run.
    let keep = args.plot.is_some();
    let methods: Vec<Method> =
        points.iter().map(|point| method(&args.algo, &point.settings, keep)).collect::<Result<_, _>>()?;
    let results: Vec<Result<Done, Failure>> = points
        .par_iter()
        .zip(&methods)
        .map(|(point, m)| {
            let out = run(m, &p.tape, (&point.x0, &point.y0))?;
            let label = label(point, &grid);
            let r = report(p.tape.name(), m, &out.run, out.seconds, out.error.clone(), false);
            Ok((r, label, keep.then_some(out.run)))
        })
        .collect();
    let mut done = Vec::with_capacity(results.len());
    for r in results {
        done.push(r?);
    }
    if let Some(path) = &args.plot {
        let labelled: Vec<(String, &_)> =
            done.iter().filter_map(|(_, l, run)| Some((l.clone(), run.as_ref()?))).collect();
        plots::convergence(&labelled).save(path).map_err(|e| bad(e.to_string()))?;
    }
    let mut order: Vec<usize> = (0..done.len()).collect();
    let key = |i: usize| rank(&done[i].0, args.rank_by);
    order.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
    if args.json {
        let reports: Vec<&Report> = order.iter().map(|&i| &done[i].0).collect();
        println!("{}", serde_json::to_string(&reports).expect("numbers and strings serialize"));
    } else {
        let header: Vec<&str> = ["settings", "start"].into_iter().chain(HEADER.into_iter().skip(1)).collect();
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|&i| {
                let (r, label, _) = &done[i];
                let (settings, start) = label.split_once(" @ ").unwrap_or((label, "start"));
                [settings.to_string(), start.to_string()].into_iter().chain(row(r).into_iter().skip(1)).collect()
            })
            .collect();
        print!("{}", aligned(&header, &rows));
    }
    Ok(())
}

/// The sort key: the final value of the metric `by`; failed runs (and NaN) last.
fn rank(r: &Report, by: RankBy) -> f64 {
    if r.error.is_some() {
        return f64::INFINITY;
    }
    let value = match by {
        RankBy::UpperAtSolution => r.upper_at_solution.unwrap_or(r.upper),
        RankBy::Upper => r.upper,
        RankBy::BgsResidual => r.bgs_residual,
        RankBy::LowerGradNorm => r.lower_grad_norm,
        RankBy::Seconds => r.seconds,
    };
    if value.is_nan() {
        f64::INFINITY
    } else {
        value
    }
}

/// The label of a run: the grid's settings and the start.
fn label(point: &Point, grid: &[Vec<(&'static str, String)>]) -> String {
    let swept: Vec<&str> = grid.first().map(|c| c.iter().map(|(n, _)| *n).collect()).unwrap_or_default();
    let parts: Vec<String> =
        point.settings.iter().filter(|(n, _)| swept.contains(n)).map(|(n, v)| format!("{n}={v}")).collect();
    let start = if point.start == 0 { "start".to_string() } else { format!("random start {}", point.start) };
    format!("{} @ {start}", parts.join(" "))
}

/// Every combination of `OPTION=V1,V2;OPTION=...`, in the order given (the last option varying fastest).
fn grid(text: &str) -> Result<Vec<Vec<(&'static str, String)>>, Failure> {
    let mut combos: Vec<Vec<(&'static str, String)>> = vec![Vec::new()];
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, values) =
            part.split_once('=').ok_or_else(|| bad(format!("--grid: `{part}` is not OPTION=V1,V2,...")))?;
        let name = bilevel::options::OPTIONS
            .iter()
            .map(|o| o.name)
            .find(|n| *n == name.trim())
            .ok_or_else(|| bad(format!("--grid: unknown option `{}`", name.trim())))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return Err(bad(format!("--grid: `{part}` gives no values")));
        }
        combos = combos
            .into_iter()
            .flat_map(|c| values.iter().map(move |v| [c.clone(), vec![(name, v.clone())]].concat()))
            .collect();
    }
    Ok(combos)
}
