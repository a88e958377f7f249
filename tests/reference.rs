//! Reference results of REFERENCE.md reproduced through the compiled examples' problems.

use bilevel::nalgebra::SVector;
use bilevel::{Algorithm, BgsOpt, Problem, SolveError, Status};

#[allow(dead_code)]
#[path = "../examples/counter_example.rs"]
mod counter_example;
#[allow(dead_code)]
#[path = "../examples/huber_bilevel.rs"]
mod huber_bilevel;
#[allow(dead_code)]
#[path = "../examples/mexican_hat.rs"]
mod mexican_hat;

use counter_example::{reference_settings, CounterExample};

/// `c = 1 − (1 − α)^T` for α = 0.2, T = 5.
fn c() -> f64 {
    1.0 - 0.8f64.powi(5)
}

#[test]
fn p1_rhg_reaches_c_over_one_plus_c_squared() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let run = reference_settings(BgsOpt::rhg(5)).solve(&p, &x0, &y0).unwrap();
    let expected = c() / (1.0 + c() * c());
    assert!((expected - 0.463026).abs() < 1e-6, "the closed form is REFERENCE.md's 0.463026");
    assert!((run.x()[0] - expected).abs() < 1e-6, "rhg: x = {} but expected {expected}", run.x()[0]);
    assert_eq!(run.iterations(), 3000);
    assert_eq!(run.status, Status::MaxIterations);
}

#[test]
fn p1_itd_reaches_c_over_one_plus_c() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let run = reference_settings(BgsOpt::itd(5)).solve(&p, &x0, &y0).unwrap();
    let expected = c() / (1.0 + c());
    assert!((expected - 0.402028).abs() < 1e-6, "the closed form is REFERENCE.md's 0.402028");
    assert!((run.x()[0] - expected).abs() < 1e-6, "itd: x = {} but expected {expected}", run.x()[0]);
}

#[test]
fn p1_trace_follows_the_reference_convention() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let opt = BgsOpt { outer_iters: 3, ..reference_settings(BgsOpt::itd(5)) };
    let run = opt.solve(&p, &x0, &y0).unwrap();
    assert_eq!(run.trace.len(), 4, "entry 0 is the start, then one entry per iteration");
    assert_eq!(run.trace[0].x, x0);
    assert_eq!(run.trace[0].y, y0);
    assert_eq!(run.trace[0].dir_norm, 0.0);
    // Iteration 1 from x = 0, y = (0, 0): ∇y G = (y[0] − x, 0) = 0, so y stays at 0, while
    // J_x ← J_x (1 − α) + α on its first entry gives J_x = (c, 0) after T steps. With ∇x F = x − y[1] = 0 and
    // ∇y F = (y[0] − 1, y[1] − x) = (−1, 0): d_1 = −c and x_1 = 0 − γ d_1 = c / 2.
    assert!((run.trace[1].dir_norm - c()).abs() < 1e-12, "‖d_1‖ = {}", run.trace[1].dir_norm);
    assert!((run.trace[1].x[0] - 0.5 * c()).abs() < 1e-12, "x_1 = {}", run.trace[1].x[0]);
    assert_eq!(run.trace[1].y, y0);
    for r in &run.trace {
        let g = p.lower_grad(&r.x, &r.y);
        assert_eq!(r.lower_grad_norm, g.y.norm(), "metrics are evaluated at (x_k, y_k)");
        assert_eq!(r.upper, p.upper(&r.x, &r.y));
    }
}

#[test]
fn p1_box_is_respected() {
    let p = CounterExample;
    let x0 = SVector::from([250.0]);
    let opt = BgsOpt { outer_iters: 1, ..reference_settings(BgsOpt::itd(5)) };
    let run = opt.solve(&p, &x0, &SVector::zeros()).unwrap();
    assert_eq!(run.trace[0].x[0], 100.0, "the start is projected onto [-100, 100]");
    assert!(run.x()[0] <= 100.0);
}

#[test]
fn p1_tolerance_stops_the_run() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let opt = BgsOpt { tol: Some(1e-10), ..reference_settings(BgsOpt::itd(5)) };
    let run = opt.solve(&p, &x0, &y0).unwrap();
    match run.status {
        Status::Converged { iteration } => assert!(iteration < 3000 && iteration == run.iterations()),
        s => panic!("expected convergence, got {s:?}"),
    }
    assert!((run.x()[0] - c() / (1.0 + c())).abs() < 1e-8);
}

#[test]
fn p4_smbg_reaches_a_lower_level_solution() {
    let p = huber_bilevel::HuberBilevel::default();
    let opt = BgsOpt { lower_step: 0.05, upper_step: 0.1, outer_iters: 200, ..BgsOpt::itd(10) };
    for (y0, want) in [(0.5, 1.0), (-0.3, -1.0)] {
        let run = opt.solve(&p, &SVector::zeros(), &SVector::from([y0])).unwrap();
        assert!((run.y()[0] - want).abs() < 1e-6, "from y0 = {y0}: y = {} but expected {want}", run.y()[0]);
    }
}

#[test]
fn p2_itd_bias_shrinks_with_t() {
    // REFERENCE.md: corrected ITD reaches the BGS equilibrium x = (0.3041640, 0.4005633); plain ITD stalls at a
    // biased point whose distance to it shrinks as T grows.
    let p = mexican_hat::MexicanHat::default();
    let (x0, y0) = p.start();
    let equilibrium = SVector::from([0.3041640, 0.4005633]);
    let distance = |t: usize| {
        let opt = BgsOpt { lower_step: 0.05, upper_step: 0.1, outer_iters: 1500, ..BgsOpt::itd(t) };
        (opt.solve(&p, &x0, &y0).unwrap().x() - equilibrium).norm()
    };
    let (d1, d10) = (distance(1), distance(10));
    assert!(d10 < d1 / 10.0, "‖x − x*‖ = {d1} for T = 1 and {d10} for T = 10");
}

#[test]
fn a_diverging_run_stops_with_the_iteration_and_keeps_the_finite_trace() {
    // A lower step far above 2/L makes the lower iterates blow up.
    let p = CounterExample;
    let (x0, y0) = p.start();
    let opt = BgsOpt { lower_step: 50.0, divergence_bound: 1e6, ..reference_settings(BgsOpt::itd(5)) };
    match opt.solve(&p, &x0, &(SVector::from([1.0, 0.0]) + y0)) {
        Err(SolveError::Fault { iteration, cause, run }) => {
            assert_eq!(run.trace.len(), iteration, "the trace holds iterations 0..iteration-1");
            assert!(run.trace.iter().all(|r| r.x.iter().chain(r.y.iter()).all(|v| v.is_finite())));
            assert!(cause.contains("diverged") || cause.contains("not finite"), "cause: {cause}");
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn invalid_options_are_rejected_before_running() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let opt = BgsOpt { unrolled_steps: 0, warm_steps: 0, ..BgsOpt::default() };
    assert!(matches!(opt.solve(&p, &x0, &y0), Err(SolveError::Options(_))));
    let opt = BgsOpt { lower_step: f64::NAN, ..BgsOpt::default() };
    assert!(matches!(opt.solve(&p, &x0, &y0), Err(SolveError::Options(_))));
}
