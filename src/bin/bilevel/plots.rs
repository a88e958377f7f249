//! Convergence plots of runs, as the papers draw them: the lower gradient norm, the BGS residual and the upper
//! objective against the iteration, one line per run (log scale for the norms).

use bilevel::plot::{Figure, Panel, Series};
use bilevel::{Record, Run};

/// Three panels, one series per `(label, run)`.
pub fn convergence(runs: &[(String, &Run)]) -> Figure {
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
