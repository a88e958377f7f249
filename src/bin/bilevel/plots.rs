//! Convergence plots of runs, as the papers draw them: the lower gradient norm, the BGS residual and the upper
//! objective against the iteration, one line per run (log scale for the norms); for the stochastic methods, as
//! their field draws them, `h(x) = F(x, y*(x))` against time and against per-sample gradients.

use bilevel::plot::{Figure, Panel, Series};
use bilevel::{Record, Run};

/// Three panels, one series per `(label, run)`: against the iteration, or for runs of stochastic methods (their
/// records count per-sample gradients) against their cost.
pub fn convergence(runs: &[(String, &Run)]) -> Figure {
    if !runs.is_empty() && runs.iter().all(|(_, run)| run.trace.iter().any(|r| calls(r).is_some())) {
        return against_cost(runs);
    }
    let panel = |title: &str, y: &str, metric: fn(&Record) -> f64| Panel {
        series: runs
            .iter()
            .map(|(label, run)| {
                Series::new(label.clone(), run.trace.iter().map(|r| (r.iteration as f64, metric(r))).collect())
            })
            .collect(),
        ..Panel::new(title, "iteration k", y)
    };
    Figure::new(vec![
        panel("lower-level stationarity", "‖∇y G(x_k, y_k)‖", |r| r.lower_grad_norm).log_y(),
        panel("upper-level stationarity", "BGS residual", |r| r.bgs_residual).log_y(),
        panel("upper objective", "F(x_k, y_k)", |r| r.upper),
    ])
}

/// The per-sample gradients a stochastic method's record counts.
fn calls(r: &Record) -> Option<f64> {
    r.extras.iter().find(|(name, _)| name == "oracle_grad").map(|(_, v)| *v)
}

/// `h − h_best` (the best `h = F(x, y*(x))` of any record of these runs) against the iterations' own time and
/// against per-sample gradients, at the records that have `h` (`--eval-every`); and `‖∇y G‖` against the step.
fn against_cost(runs: &[(String, &Run)]) -> Figure {
    let best = runs
        .iter()
        .flat_map(|(_, run)| run.trace.iter().filter_map(|r| r.upper_at_solution))
        .fold(f64::INFINITY, f64::min);
    let gap = |x: fn(&Run, usize, &Record) -> Option<f64>| {
        move |(label, run): &(String, &Run)| {
            let points =
                run.trace.iter().enumerate().filter_map(|(k, r)| Some((x(run, k, r)?, r.upper_at_solution? - best)));
            Series::new(label.clone(), points.collect())
        }
    };
    let h = "h(x) − best h";
    let time = Panel {
        series: runs.iter().map(gap(|run, k, _| run.seconds.get(k).copied())).collect(),
        ..Panel::new("h(x) = F(x, y*(x)) against time", "seconds (the iterations' own)", h)
    };
    let oracle = Panel {
        series: runs.iter().map(gap(|_, _, r| calls(r))).collect(),
        ..Panel::new("h(x) against per-sample gradients", "per-sample gradients of G and F", h)
    };
    let stationarity = Panel {
        series: runs
            .iter()
            .map(|(label, run)| {
                Series::new(label.clone(), run.trace.iter().map(|r| (r.iteration as f64, r.lower_grad_norm)).collect())
            })
            .collect(),
        ..Panel::new("lower-level stationarity", "step k", "‖∇y G(x_k, y_k)‖")
    };
    Figure::new(vec![time.log_y(), oracle.log_y(), stationarity.log_y()])
}
