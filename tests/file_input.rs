//! `bilevel!(file = "...")`: the same language read from a `.bl` file.

use bilevel::{bilevel, Algorithm, BgsOpt, Problem, XiSolver};

bilevel!(file = "tests/bl/shifted_quadratic.bl");

#[test]
fn a_problem_from_a_file_compiles_and_solves() {
    let p = ShiftedQuadratic::default();
    assert_eq!(p.shift, 0.5);
    assert_eq!(p.name(), "ShiftedQuadratic");
    let (x0, y0) = p.start();
    // y*(x) = x + 0.5, so F = (x − 0.5)² + 0.1 x² is minimal at x = 0.5 / 1.1.
    let opt = BgsOpt {
        outer_iters: 2000,
        lower_step: Some(0.25),
        upper_step: 0.2,
        ..BgsOpt::corrected_itd(3, XiSolver::PINV)
    };
    let run = opt.solve(&p, &x0, &y0).unwrap();
    assert!((run.x()[0] - 0.5 / 1.1).abs() < 1e-9, "x = {}", run.x()[0]);
}
