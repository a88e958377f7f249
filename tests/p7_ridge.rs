//! P7 (per-feature ridge on the diabetes data) on reduced settings: from the reference optimum x* (to seven
//! digits), AID and corrected ITD with an exact enough pseudo-inverse stay at x*, while a cutoff that drops
//! genuine eigenvalues and plain ITD move away from it. The full runs are the example `ridge_diabetes`.

use bilevel::matrix_free::solve_lower;
use bilevel::{Algorithm, BgsOpt, XiSolver};

#[allow(dead_code)]
#[path = "../examples/ridge_diabetes.rs"]
mod ridge_diabetes;

use ridge_diabetes::{distance, problem, F_STAR, X_STAR};

#[test]
fn aid_and_corrected_itd_stay_at_x_star_and_the_others_leave_it() {
    let p = problem().unwrap();
    let mut y = [0.0; 11];
    assert!(solve_lower(&p, &X_STAR, &mut y, 1e-10, 100).converged);
    let set = |m: BgsOpt| BgsOpt { lower_step: Some(0.4), upper_step: 0.05, outer_iters: 200, ..m };
    for (method, stays) in [
        (set(BgsOpt::aid(50, XiSolver::Cg { iters: 20 })), true),
        (set(BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-6 })), true),
        (set(BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-3 })), false),
        (set(BgsOpt::itd(50)), false),
    ] {
        let run = method.solve(&p, &X_STAR, &y).unwrap();
        let (d, f) = (distance(&run), run.last().upper);
        eprintln!("{} {}: distance {d:e}, F − F* = {:e}", method.name(), method.settings(), f - F_STAR);
        if stays {
            assert!(d < 1e-6 && (f - F_STAR).abs() < 1e-6, "{}: distance {d:e}, F = {f}", method.settings());
        } else {
            assert!(d > 1e-3, "{}: distance {d:e}", method.settings());
        }
    }
}
