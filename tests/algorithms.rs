//! Behaviour every algorithm shares: box constraints, faults that keep the work done, solver guards, and trace
//! export.

mod common;
mod problems;

use bilevel::nalgebra::{Vector1, Vector2};
use bilevel::{
    bilevel, Algorithm, Bda, BgsOpt, Dpbg, Galet, Method, Metrics, Problem, SolveError, SolveResult, Status, Stop,
    XiSolver,
};

bilevel! {
    /// The unconstrained solution x = 2 lies outside the box [0, 1].
    problem Boxed {
        upper x: real in [0, 1];
        lower y: real;
        minimize upper: (x - 2)^2 + (y - x)^2;
        minimize lower: (y - x)^2;
        start x = 0.5, y = 0;
    }
}

bilevel! {
    /// The lower steps drive y below 0, where log(y) is not defined.
    problem LogOfNegative {
        upper x: real;
        lower y: real;
        minimize upper: x^2 + log(y);
        minimize lower: (y + 1)^2;
        start x = 1, y = 1;
    }
}

bilevel! {
    /// A lower level with a zero Hessian: CG on H² z = −v has no curvature at all.
    problem FlatLower {
        upper x: real;
        lower y: real[2];
        minimize upper: (x - 1)^2 + norm2(y);
        minimize lower: x * y[0];
        start x = 0, y = [1, 1];
    }
}

fn all_methods() -> Vec<Method> {
    vec![
        BgsOpt { outer_iters: 300, ..BgsOpt::itd(5) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::rhg(5) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::truncated_itd(3, 2) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::corrected_itd(5, XiSolver::PINV) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::aid(10, XiSolver::ADAPTIVE_PINV) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::corrected_itd(5, XiSolver::ZCg { iters: 1 }) }.into(),
        BgsOpt { outer_iters: 300, ..BgsOpt::corrected_itd(5, XiSolver::Gd { step: 0.2 }) }.into(),
        Bda { outer_iters: 300, inner_iters: 8, ..Bda::default() }.into(),
        Galet { outer_iters: 300, lower_step: Some(0.4), ..Galet::default() }.into(),
        Dpbg { iters: 300, step: 0.1, ..Dpbg::default() }.into(),
    ]
}

bilevel! {
    /// A lower level that curves more away from the start: H = 3y² + 1 is 1 at y = 0 and 28 at y = 3.
    problem Quartic {
        upper x: real;
        lower y: real;
        minimize upper: (x - 3)^2 + y^2;
        minimize lower: 0.25 * y^4 + 0.5 * (y - x)^2;
        start x = 3, y = 0;
    }
}

#[test]
fn a_diverging_run_says_which_step_it_used_and_what_to_change() {
    let p = Quartic;
    let (x0, y0) = p.start();
    // The default step 1/L_G = 1 from the curvature at y = 0 diverges once y nears 3.
    let err = BgsOpt { outer_iters: 50, ..BgsOpt::itd(5) }.solve(&p, &x0, &y0).unwrap_err().to_string();
    assert!(err.contains("stopped at iteration 1"), "{err}");
    assert!(err.contains("the lower step α = 1.000000e0 was chosen as 1/L_G from the curvature at the start"), "{err}");
    assert!(err.contains("a smaller lower step (`lower_step`; tool --lower-step)"), "{err}");
    // A given step too large at the start: the warning is in the error too.
    let err = BgsOpt { outer_iters: 50, lower_step: Some(2.5), ..BgsOpt::itd(5) }.solve(&p, &x0, &y0).unwrap_err();
    assert!(err.to_string().contains("is too large for the lower level's curvature at the start"), "{err}");
    // The smaller step runs.
    assert!(BgsOpt { outer_iters: 50, lower_step: Some(0.05), ..BgsOpt::itd(5) }.solve(&p, &x0, &y0).is_ok());
    // GALET's step on w is checked against the same curvature (L_G = 1 at the start: ρ < 2 keeps w stable).
    let galet = |w_step| Galet { outer_iters: 5, lower_step: Some(0.05), w_step, ..Galet::default() };
    let warnings = |r: bilevel::SolveResult| match r {
        Ok(run) => run.warnings,
        Err(SolveError::Fault { run, .. }) => run.warnings,
        Err(e) => panic!("{e}"),
    };
    let w = warnings(galet(3.0).solve(&p, &x0, &y0));
    assert!(w.iter().any(|w| w.contains("GALET's step ρ = 3 on w is too large") && w.contains("ρ < 2/L_G²")), "{w:?}");
    assert!(warnings(galet(0.5).solve(&p, &x0, &y0)).is_empty());
}

bilevel! {
    /// A lower level unbounded below in y (G = x y − y² is concave in y): no algorithm can solve it.
    problem UnboundedLower {
        upper x: real;
        lower y: real;
        minimize upper: x^2 + y^2;
        minimize lower: x * y - y^2;
        start x = 1, y = 1;
    }
}

#[test]
fn every_algorithm_stops_a_run_on_a_lower_level_unbounded_below() {
    let p = UnboundedLower;
    let (x0, y0) = p.start();
    for algo in bilevel::options::ALGORITHMS {
        let m = Method::from_options(algo, &[]).unwrap();
        match m.solve(&p, &x0, &y0) {
            Err(SolveError::Fault { cause, run, .. }) => {
                assert!(cause.starts_with("diverged"), "{algo}: {cause}");
                assert!(run.trace.iter().all(|r| r.x.iter().chain(r.y.iter()).all(|v| v.is_finite())), "{algo}");
            }
            other => panic!("{algo} ({}): expected a divergence, got {:?}", m.settings(), other.map(|r| r.x().clone())),
        }
    }
}

#[test]
fn every_algorithm_respects_the_box() {
    let p = Boxed;
    let (x0, y0) = p.start();
    for m in all_methods() {
        let run = m.solve(&p, &x0, &y0).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        assert!(run.trace.iter().all(|r| (0.0..=1.0).contains(&r.x[0])), "{}: x left [0, 1]", m.name());
        assert!(
            (run.x()[0] - 1.0).abs() < 1e-6,
            "{} ({}): x = {} but the box bound is 1",
            m.name(),
            m.settings(),
            run.x()[0]
        );
        assert!(!run.notes.iter().any(|n| n.contains("outside the box")), "{}: the start is inside", m.name());
        // A start outside the box is projected, and the run says so.
        let outside = m.solve(&p, &Vector1::new(3.0), &y0).unwrap();
        assert_eq!(outside.trace[0].x[0], 1.0, "{}: the start's projection", m.name());
        let note = "the start x = [3.0] is outside the box; the run starts from its projection [1.0]";
        assert!(outside.notes.iter().any(|n| n == note), "{}: {:?}", m.name(), outside.notes);
    }
}

#[test]
fn a_non_finite_value_stops_the_run_with_its_iteration_and_keeps_the_finite_trace() {
    // y_k = 1, 0.6, 0.28, 0.024, −0.18, …: log(y) is NaN from iteration 4 on.
    let p = LogOfNegative;
    let (x0, y0) = p.start();
    let opt = BgsOpt { lower_step: Some(0.1), upper_step: 0.01, metrics: Metrics::Every(1), ..BgsOpt::itd(1) };
    // Keeping only the start and the end, the objectives are evaluated at the end only: the run still ends in a
    // fault (never as a success), there.
    match (BgsOpt { metrics: Metrics::End, outer_iters: 50, ..opt.clone() }).solve(&p, &x0, &y0) {
        Err(SolveError::Fault { iteration, .. }) => assert_eq!(iteration, 50),
        other => panic!("expected a fault, got {other:?}"),
    }
    match opt.solve(&p, &x0, &y0) {
        Err(SolveError::Fault { iteration, cause, run }) => {
            assert_eq!(iteration, 4);
            assert!(cause.contains("not finite"), "{cause}");
            assert_eq!(run.trace.len(), 4, "iterations 0..=3 are kept");
            assert!(run.trace.iter().all(|r| r.upper.is_finite() && r.y[0] > 0.0));
            assert!((run.trace[3].y[0] - 0.024).abs() < 1e-12);
            let shown = SolveError::Fault { iteration, cause, run }.to_string();
            assert!(shown.starts_with("stopped at iteration 4:"), "{shown}");
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn a_diverging_xi_solver_is_a_fault_not_a_panic() {
    // On the Mexican hat H has eigenvalue 8 on the circle, so gd with β = 0.5 > 2/8 diverges.
    use crate::problems::mexican_hat;
    let p = mexican_hat::MexicanHat::default();
    let (x0, y0) = p.start();
    let opt = mexican_hat::reference_settings(BgsOpt::corrected_itd(10, XiSolver::Gd { step: 0.5 }));
    match opt.solve(&p, &x0, &y0) {
        Err(SolveError::Fault { iteration, run, .. }) => {
            // Only the start and the end are kept by default: the end is the last finite iterate.
            assert!(iteration > 1 && run.trace.len() == 2 && run.last().iteration == iteration - 1);
            assert!(run.trace.iter().all(|r| r.x.iter().all(|v| v.is_finite())));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn gd_reports_the_growth_of_xi_in_the_null_space_of_h() {
    // On P1, H = diag(1, 0) and v has a component along (0, 1): ξ grows linearly there, B ξ does not see it.
    use crate::problems::counter_example;
    let p = counter_example::CounterExample;
    let (x0, y0) = p.start();
    let opt = counter_example::reference_settings(BgsOpt::corrected_itd(5, XiSolver::Gd { step: 0.5 }));
    let opt = BgsOpt { metrics: Metrics::Every(1000), ..opt };
    let run = opt.solve(&p, &x0, &(Vector2::new(2.0, 2.0) + y0)).unwrap();
    let xi = |k: usize| run.trace[k / 1000].extra("xi_norm").unwrap();
    let (d1, d2) = (xi(2000) - xi(1000), xi(3000) - xi(2000));
    assert!(
        d1 > 100.0 && (d2 - d1).abs() < 0.01 * d1,
        "linear growth: ‖ξ‖ = {}, {}, {} at 1000, 2000, 3000",
        xi(1000),
        xi(2000),
        xi(3000)
    );
    assert!((run.x()[0] - 1.5).abs() < 1e-6, "the correction is still right: x = {}", run.x()[0]);
}

#[test]
fn z_cg_breakdown_is_reported_and_keeps_z() {
    let p = FlatLower;
    let (x0, y0) = p.start();
    let opt = BgsOpt { outer_iters: 5, ..BgsOpt::corrected_itd(2, XiSolver::ZCg { iters: 3 }) };
    // With no curvature there is no lower step to choose from it.
    let err = opt.solve(&p, &x0, &y0).unwrap_err();
    assert!(err.to_string().contains("no lower step α was given"), "{err}");
    let run = BgsOpt { lower_step: Some(0.1), ..opt }.solve(&p, &x0, &y0).unwrap();
    assert!(run.trace[1..].iter().all(|r| r.extra("cg_breakdown") == Some(1.0)));
    assert!(run.trace.iter().all(|r| r.x[0].is_finite() && r.y.iter().all(|v| v.is_finite())));
}

#[test]
fn invalid_options_are_rejected_before_running() {
    let p = Boxed;
    let (x0, y0) = p.start();
    let bad: Vec<Method> = vec![
        BgsOpt { unrolled_steps: 0, warm_steps: 0, ..BgsOpt::default() }.into(),
        BgsOpt { lower_step: Some(f64::NAN), ..BgsOpt::default() }.into(),
        BgsOpt::corrected_itd(3, XiSolver::Pinv { rtol: -1.0 }).into(),
        BgsOpt::corrected_itd(3, XiSolver::ZCg { iters: 0 }).into(),
        Bda { mu: 0.0, ..Bda::default() }.into(),
        Galet { w_step: f64::INFINITY, ..Galet::default() }.into(),
        Dpbg { step: -0.1, ..Dpbg::default() }.into(),
    ];
    for m in bad {
        assert!(matches!(m.solve(&p, &x0, &y0), Err(SolveError::Options(_))), "{} ({})", m.name(), m.settings());
    }
}

#[test]
fn traces_export_to_csv_and_json() {
    let p = Boxed;
    let (x0, y0) = p.start();
    let galet = Galet { outer_iters: 3, r_y_steps: 50, metrics: Metrics::Every(1), ..Galet::default() };
    let run = galet.solve(&p, &x0, &y0).unwrap();
    let csv = run.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "iteration,x[0],y[0],upper,lower,lower_grad_norm,dir_norm,bgs_residual,R_x,R_w,R_y");
    assert_eq!(lines.len(), 5);
    assert!(lines[1].ends_with(",,,"), "the start has no GALET residuals: {}", lines[1]);
    let json: serde_json::Value = serde_json::from_str(&run.to_json()).expect("valid JSON");
    assert_eq!(json["iterations"], 3);
    assert_eq!(json["status"], "max-iterations");
    assert_eq!(json["trace"].as_array().unwrap().len(), 4);
    assert_eq!(json["trace"][3]["x"][0].as_f64().unwrap(), run.x()[0]);
    assert!(json["trace"][3]["extras"]["R_y"].as_f64().unwrap() >= 0.0);
}

#[test]
fn dpbg_starts_from_the_image_of_its_initialization() {
    use crate::problems::huber_bilevel;
    let p = huber_bilevel::HuberBilevel::default();
    let d = Dpbg { iters: 1, lower_step: Some(0.05), ..Dpbg::default() };
    let run = d.solve(&p, &Vector1::new(0.0), &Vector1::new(0.5)).unwrap();
    assert_eq!(run.trace[0].y[0], huber_bilevel::lower_steps(&p, 0.5, 9, 0.05), "y_0 = φ_k(x_0, z_0)");
    assert_eq!(run.trace[0].extra("z[0]"), Some(0.5));
}

#[test]
fn a_trace_of_every_kth_iterate_holds_the_same_records() {
    let p = Boxed;
    let (x0, y0) = p.start();
    for m in all_methods() {
        let full = m.clone().with_metrics(Metrics::Every(1)).solve(&p, &x0, &y0).unwrap();
        let sparse = m.clone().with_metrics(Metrics::Every(7)).solve(&p, &x0, &y0).unwrap();
        let kept: Vec<usize> = sparse.trace.iter().map(|r| r.iteration).collect();
        assert_eq!(sparse.seconds.len(), sparse.trace.len(), "one time per record");
        assert!(sparse.seconds[0] == 0.0 && sparse.seconds.windows(2).all(|w| w[0] <= w[1]), "{:?}", sparse.seconds);
        let expected: Vec<usize> = (0..=300).filter(|k| k % 7 == 0 || *k == 300).collect();
        assert_eq!(kept, expected, "{}", m.name());
        for r in &sparse.trace {
            assert_eq!(r, &full.trace[r.iteration], "{}: the record of iteration {}", m.name(), r.iteration);
        }
        let products = common::ProductsOnly(p);
        let end = m.clone().with_metrics(Metrics::End).solve(&products, x0.as_slice(), y0.as_slice());
        let end = end.unwrap();
        assert_eq!(end.trace.iter().map(|r| r.iteration).collect::<Vec<_>>(), [0, 300], "{}", m.name());
        assert_eq!(end.x().as_slice(), full.x().as_slice(), "{}: the same last iterate matrix-free", m.name());
    }
    let err = all_methods()[0].clone().with_metrics(Metrics::Every(0)).solve(&p, &x0, &y0).unwrap_err();
    assert!(err.to_string().contains("Every(0), Full(0) or Solved(0) keeps no iterate"), "{err}");
}

#[test]
fn a_tolerance_stops_the_run_as_converged() {
    let p = Boxed;
    let (x0, y0) = p.start();
    let stop = Stop { tol: Some(1e-10), ..Stop::default() };
    let every = Metrics::Every(1000);
    for m in [
        Method::from(BgsOpt { stop, outer_iters: 5000, ..BgsOpt::itd(5) }),
        Galet { stop, outer_iters: 5000, lower_step: Some(0.4), ..Galet::default() }.into(),
        // Convergence between two kept iterates: that iterate ends the trace.
        BgsOpt { stop, outer_iters: 5000, metrics: every, ..BgsOpt::itd(5) }.into(),
    ] {
        let run = m.solve(&p, &x0, &y0).unwrap();
        match run.status {
            Status::Converged { iteration } => {
                assert!(iteration < 5000 && iteration == run.iterations(), "{}", m.name())
            }
            s => panic!("{}: expected convergence, got {s:?}", m.name()),
        }
        assert!(run.last().lower_grad_norm < 1e-10 && (run.x()[0] - 1.0).abs() < 1e-9);
        assert!(run.last().dir_norm > 0.1, "at the active bound d points out of the box; the projected step is 0");
    }
}

#[test]
fn divergence_stops_the_run_with_the_iteration_and_the_trace() {
    // A lower step far above 2/L makes the lower iterates blow up.
    let p = Boxed;
    let (x0, y0) = p.start();
    let opt =
        BgsOpt { lower_step: Some(5.0), stop: Stop { divergence_bound: 1e6, ..Stop::default() }, ..BgsOpt::itd(5) };
    match opt.solve(&p, &x0, &y0) {
        Err(SolveError::Fault { iteration, cause, run }) => {
            assert_eq!(run.trace.len(), iteration, "the trace holds iterations 0..iteration-1");
            assert!(cause.starts_with("diverged"), "cause: {cause}");
            assert!(run.trace.iter().all(|r| r.y.norm() <= 1e6));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    let bad = BgsOpt { stop: Stop { tol: Some(-1.0), ..Stop::default() }, ..BgsOpt::itd(5) };
    assert!(matches!(bad.solve(&p, &x0, &y0), Err(SolveError::Options(_))));
}

bilevel! {
    /// G and ∇y G are finite everywhere, but H = 2 + 0.75 |y|^(−1/2) is infinite at y = 0.
    problem InfiniteCurvature {
        upper x: real;
        lower y: real;
        minimize upper: (x - 1)^2 + y^2;
        minimize lower: (y - x)^2 + abs(y)^1.5;
        start x = 0, y = 0;
    }
}

/// A pseudo-inverse of a non-finite H used to give finite numbers (ξ = 0, a BGS residual of 2): the run went on
/// with a wrong step and reported a residual it never computed. Now the start is refused with the cause, and a
/// run from a sound start is unchanged.
#[test]
fn a_start_where_the_curvature_is_not_finite_is_refused_not_run() {
    let p = InfiniteCurvature;
    let (x0, y0) = p.start();
    let aid = BgsOpt { lower_step: Some(0.1), upper_step: 0.1, outer_iters: 50, ..BgsOpt::aid(1, XiSolver::PINV) };
    for m in [Method::from(aid.clone()), BgsOpt { lower_step: Some(0.1), ..BgsOpt::itd(3) }.into()] {
        match m.solve(&p, &x0, &y0) {
            Err(SolveError::Options(why)) => {
                assert!(why.contains("the start point cannot be used: the BGS residual"), "{}: {why}", m.name())
            }
            other => panic!("{}: {other:?}", m.name()),
        }
    }
    let run = aid.solve(&p, &x0, &Vector1::new(0.5)).unwrap();
    assert!(run.trace.iter().all(|r| r.bgs_residual.is_finite() && r.x[0].is_finite()));
}

/// Every algorithm, dense and matrix-free, stops at the start where H is infinite (G and ∇G finite there): the
/// start is refused before the first iteration, or the first iteration is a fault, the trace holding the finite
/// start only — the second for SOBA, SABA and SRBA, whose first step multiplies H by `v = 0` only. None reports a run it
/// could not do.
#[test]
fn every_algorithm_stops_at_a_start_where_the_curvature_is_not_finite() {
    let p = InfiniteCurvature;
    let (x0, y0) = p.start();
    for algo in bilevel::options::ALGORITHMS {
        let mut options = vec![("lower-step", "0.1"), ("iters", "20")];
        if matches!(algo, "corrected-itd" | "aid") {
            options.push(("xi", "pinv"));
        }
        let m = Method::from_options(algo, &options).unwrap();
        let first = if matches!(algo, "soba" | "saba" | "srba") { 2 } else { 1 };
        stopped_at_the_start(m.solve(&p, &x0, &y0), &format!("{algo} (dense)"), first);
        stopped_at_the_start(
            m.solve(&common::ProductsOnly(p), x0.as_slice(), y0.as_slice()),
            &format!("{algo} (products only)"),
            first,
        );
    }
}

/// A run refused before its first iteration, or faulted at iteration `first` with the finite iterates before it
/// as its records (the start and, for a fault at 2, iterate 1).
fn stopped_at_the_start(result: SolveResult, what: &str, first: usize) {
    match result {
        Err(SolveError::Options(why)) => assert!(why.contains("the start point cannot be used"), "{what}: {why}"),
        Err(SolveError::Fault { iteration, run, .. }) => {
            assert_eq!((iteration, run.trace.len()), (first, first), "{what}: a fault at iteration {first}");
            let finite = run.trace.iter().all(|r| r.x.iter().chain(r.y.iter()).all(|v| v.is_finite()));
            assert!(finite, "{what}: the trace holds finite records only");
        }
        Ok(_) => panic!("{what} ran from a start with an infinite Hessian"),
    }
}
