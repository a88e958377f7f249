//! P2 of docs/algorithms.md: a lower level whose minima form a circle (a degenerate "Mexican hat"), so the lower
//! Hessian is singular on the whole solution set. Plain ITD stalls at a biased point whose bias shrinks with the
//! number of unrolled steps T; corrected ITD reaches an equilibrium of the Bilevel Game with Selection when the
//! pseudo-inverse's cutoff discards the spurious tiny eigenvalue of H near the circle. The second table is
//! the rtol × T table, for the fixed and the adaptive cutoff.
//!
//! `cargo run --release --example mexican_hat [-- --json]`

use bilevel::report::{json_requested, print_rows, run_cases, Case};
use bilevel::{bilevel, BgsOpt, Method, Problem, XiSolver};

bilevel! {
    /// A Mexican hat centred at x: the lower minima are the unit circle around x.
    problem MexicanHat {
        upper x: real[2];
        lower y: real[2];
        /// The target of the upper level.
        param c = [2.0, 1.0];
        /// The weight of the upper regularization.
        param lambda = 1.0;
        minimize upper: 0.5 * norm2(y - c) + 0.5 * lambda * norm2(x);
        minimize lower: (norm2(y - x) - 1)^2;
        start x = [0, 0], y = [0.6, 0.8];
    }
}

/// The unrolled-step counts and cutoffs of the rtol × T table.
pub const TABLE_T: [usize; 5] = [1, 3, 5, 10, 20];
/// See [`TABLE_T`].
pub const TABLE_RTOL: [f64; 7] = [1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2];

/// The settings of docs/algorithms.md: α = 0.05, γ = 0.1, K = 1500.
pub fn reference_settings(preset: BgsOpt) -> BgsOpt {
    BgsOpt { lower_step: Some(0.05), upper_step: 0.1, outer_iters: 1500, ..preset }
}

fn case(method: BgsOpt, expected: &str) -> Case<MexicanHat> {
    let problem = MexicanHat::default();
    let (x0, y0) = problem.start();
    Case { problem, method: Method::from(reference_settings(method)), x0, y0, expected: expected.into() }
}

/// The rows of the P2 results table, from x0 = (0, 0), y0 = (0.6, 0.8).
pub fn cases() -> Vec<Case<MexicanHat>> {
    vec![
        case(BgsOpt::itd(1), "stalls: bgs_residual ≈ 0.4293"),
        case(BgsOpt::itd(10), "bgs_residual ≈ 3.05e-3 (bias shrinks with T)"),
        case(BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-3 }), "x = (0.3041640, 0.4005633), residuals < 1e-8"),
        case(
            BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-10 }),
            "wanders near (1.24, 0.06), bgs_residual ≈ 1.1",
        ),
        case(BgsOpt::corrected_itd(10, XiSolver::ZCg { iters: 1 }), "the point of pinv rtol = 1e-3"),
    ]
}

/// Whether the table says corrected ITD with a fixed cutoff `rtol` reaches an equilibrium with `t` steps.
pub fn pinv_converges(t: usize, rtol: f64) -> bool {
    let smallest = match t {
        1 | 3 => 1e-2,
        5 => 1e-3,
        10 => 1e-4,
        _ => 1e-6,
    };
    rtol >= smallest
}

/// The cells of the rtol × T table: fixed cutoff (expected as in docs/algorithms.md), then adaptive cutoff with κ = 10
/// (expected to converge everywhere).
pub fn table_cases() -> Vec<Case<MexicanHat>> {
    let mut cases = Vec::new();
    for adaptive in [false, true] {
        for t in TABLE_T {
            for rtol in TABLE_RTOL {
                let (solver, ok) = if adaptive {
                    (XiSolver::AdaptivePinv { rtol, kappa: 10.0 }, true)
                } else {
                    (XiSolver::Pinv { rtol }, pinv_converges(t, rtol))
                };
                let expected = if ok { "✓ (residuals < 1e-8)" } else { "✗" };
                cases.push(case(BgsOpt::corrected_itd(t, solver), expected));
            }
        }
    }
    cases
}

fn main() {
    let json = json_requested();
    print_rows("P2 mexican_hat: x0 = (0, 0), y0 = (0.6, 0.8), α = 0.05, γ = 0.1, K = 1500", &run_cases(&cases()), json);
    let title = "P2 rtol × T table of corrected ITD (✓ = bgs_residual and ‖∇y G‖ < 1e-8)";
    print_rows(title, &run_cases(&table_cases()), json);
}
