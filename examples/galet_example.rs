//! P3 of docs/algorithms.md: Example 1 of the GALET paper. The lower objective satisfies the PL condition but its
//! Hessian is singular everywhere on the solution set; the global solutions are `x = 0.5` with
//! `0.5 + y[0] − sin(y[1]) = 0`. GALET with a warm-started `w` converges from every start; with `w` reset to 0
//! at every iteration (as the paper writes) it does not.
//!
//! `cargo run --release --example galet_example [-- --json]`

use bilevel::nalgebra::{Vector1, Vector2};
use bilevel::report::{json_requested, print_rows, run_cases, Case};
use bilevel::{bilevel, Galet};

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

/// The starts of docs/algorithms.md: (x, y) = (0, (0, 0)), (2, (1, 1)), (−3, (2, −1)).
pub const STARTS: [(f64, [f64; 2]); 3] = [(0.0, [0.0, 0.0]), (2.0, [1.0, 1.0]), (-3.0, [2.0, -1.0])];

/// GALET with the paper's defaults (α = 0.3, β = 1, N = 1, ρ = 0.1, T = 1) for K = 30 and 300, warm and reset
/// `w`, from each start.
pub fn cases() -> Vec<Case<GaletExample>> {
    let mut cases = Vec::new();
    for warm_w in [true, false] {
        for (x0, y0) in STARTS {
            for (k, warm_gap, reset_gap) in [(30, "gap < 1e-3", "gap ≈ 0.13–0.26"), (300, "gap < 1e-12", "gap ≈ 0.19")]
            {
                let galet = Galet { outer_iters: k, warm_w, lower_step: Some(1.0), ..Galet::default() };
                let expected = if warm_w { warm_gap } else { reset_gap };
                cases.push(Case {
                    problem: GaletExample,
                    method: galet.into(),
                    x0: Vector1::new(x0),
                    y0: Vector2::from(y0),
                    expected: expected.into(),
                });
            }
        }
    }
    cases
}

fn main() {
    let mut rows = run_cases(&cases());
    for row in &mut rows {
        row.expected = format!("{} (measured {:.2e})", row.expected, optimality_gap(row.x[0], &row.y));
    }
    print_rows("P3 galet_example: F = x² + y[0] − sin y[1], G = ½(x + y[0] − sin y[1])²", &rows, json_requested());
}
