//! P3 of REFERENCE.md: Example 1 of the GALET paper. The lower objective satisfies the PL condition but its
//! Hessian is singular everywhere on the solution set; the global solutions are `x = 0.5` with
//! `0.5 + y[0] − sin(y[1]) = 0`.
//!
//! `cargo run --release --example galet_example`

use bilevel::report::{table, Row};
use bilevel::{bilevel, Algorithm, BgsOpt, Problem};

bilevel! {
    /// GALET paper, Example 1.
    problem GaletExample {
        upper x: real;
        lower y: real[2];
        minimize upper: x^2 + y[0] - sin(y[1]);
        minimize lower: 0.5 * (x + y[0] - sin(y[1]))^2;
        start x = 0, y = [0, 0];
    }
}

/// The optimality gap of the paper (eq. 46): `(x − 0.5)² + (0.5 + y[0] − sin y[1])²`.
pub fn optimality_gap(x: f64, y: &[f64]) -> f64 {
    (x - 0.5).powi(2) + (0.5 + y[0] - y[1].sin()).powi(2)
}

fn main() {
    let p = GaletExample;
    let (x0, y0) = p.start();
    let opt = BgsOpt { lower_step: 1.0, upper_step: 0.3, outer_iters: 300, ..BgsOpt::itd(1) };
    let settings = "T=1 α=1 γ=0.3 K=300";
    let mut rows = Vec::new();
    match opt.solve(&p, &x0, &y0) {
        Ok(run) => {
            let gap = optimality_gap(run.x()[0], run.y().as_slice());
            rows.push(Row::of("itd", settings, &run, &format!("optimality gap {gap:.2e}")));
        }
        Err(e) => eprintln!("itd: {e}"),
    }
    println!("P3 galet_example (x0 = 0, y0 = (0, 0))\n");
    print!("{}", table(&rows));
}
