//! P1 of docs/algorithms.md: the counter-example of Liu et al. (ICML 2020, Example 1). The lower level
//! `G = ½ y[0]² − x y[0]` does not determine `y[1]`, so its solution set is a line. The optimistic solution is
//! `x* = 1, y* = (1, 1)`; unrolled methods settle at points that depend on their settings, corrected methods at
//! an equilibrium of the Bilevel Game with Selection (`x = (1 + y[1]_0)/2`), and BDA approaches `x* = 1` as its
//! inner iteration count grows.
//!
//! `cargo run --release --example counter_example [-- --json]`

use bilevel::nalgebra::{Vector1, Vector2};
use bilevel::report::{json_requested, print_rows, run_cases, Case};
use bilevel::{bilevel, Bda, BgsOpt, Galet, Method, XiSolver};

bilevel! {
    /// BDA paper, Example 1: the lower level leaves `y[1]` free.
    problem CounterExample {
        upper x: real in [-100, 100];
        lower y: real[2];
        minimize upper: 0.5 * (x - y[1])^2 + 0.5 * (y[0] - 1)^2;
        minimize lower: 0.5 * y[0]^2 - x * y[0];
        start x = 0, y = [0, 0];
    }
}

/// The settings of docs/algorithms.md for the BGS-Opt rows: α = 0.2, γ = 0.5, K = 3000.
pub fn reference_settings(preset: BgsOpt) -> BgsOpt {
    BgsOpt { lower_step: Some(0.2), upper_step: 0.5, outer_iters: 3000, ..preset }
}

/// Every row of the P1 table, from x0 = 0.
pub fn cases() -> Vec<Case<CounterExample>> {
    let c = 1.0 - 0.8f64.powi(5);
    let case = |method: Method, y0: [f64; 2], expected: String| Case {
        problem: CounterExample,
        method,
        x0: Vector1::new(0.0),
        y0: Vector2::from(y0),
        expected,
    };
    let mut cases = vec![
        case(reference_settings(BgsOpt::rhg(5)).into(), [0.0, 0.0], format!("x → c/(1+c²) = {:.6}", c / (1.0 + c * c))),
        case(reference_settings(BgsOpt::itd(5)).into(), [0.0, 0.0], format!("x → c/(1+c) = {:.6}", c / (1.0 + c))),
    ];
    for (y0, x) in [([0.0, 0.0], "0.5, y → (0.5, 0)"), ([2.0, 2.0], "1.5")] {
        for t in [1, 5] {
            let corrected = reference_settings(BgsOpt::corrected_itd(t, XiSolver::PINV));
            cases.push(case(corrected.into(), y0, format!("x → {x} (any T ≥ 1)")));
        }
    }
    let galet = Galet {
        upper_step: 0.3,
        lower_step: Some(1.0),
        lower_iters: 1,
        w_step: 0.1,
        w_iters: 1,
        outer_iters: 3000,
        ..Galet::default()
    };
    cases.push(case(galet.into(), [0.0, 0.0], "x → 0.5".into()));
    for (k, x) in [(8, "1.13708"), (16, "1.08324"), (64, "1.02910")] {
        let bda = Bda { inner_iters: k, lower_inner_step: Some(0.2), ..Bda::default() };
        cases.push(case(bda.into(), [2.0, 2.0], format!("x → {x} (→ 1 as K grows)")));
    }
    cases
}

fn main() {
    let title = "P1 counter_example: F = ½(x − y[1])² + ½(y[0] − 1)², G = ½y[0]² − x y[0], x0 = 0; c = 1 − (1 − α)^T";
    print_rows(title, &run_cases(&cases()), json_requested());
}
