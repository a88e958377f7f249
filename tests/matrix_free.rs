//! One engine, two ways of taking second derivatives: every case of the reference problems P1–P4 (BGS-Opt, BDA,
//! GALET, DPBG) run on the problem with its dense blocks (`solve`: each point's products from its blocks, `pinv`
//! on the exact `H`) and on the same problem seen through its products only (each product the problem's own,
//! `H` for `pinv` built from `m` products) gives the same trace; and on a data problem the correction solvers
//! that use only products agree with the exact pseudo-inverse of its dense twin.

mod common;

use bilevel::nalgebra::{DefaultAllocator, Dyn, Vector3};
use bilevel::report::Case;
use bilevel::{
    Algorithm, Alloc, Bda, BgsOpt, Dpbg, Galet, MatrixFreeProblem, Method, Metrics, Problem, Record, Soba, SolveError,
    TwoLoop, UpperOptimizer, XiSolver,
};

mod problems;
use problems::{counter_example, galet_example, huber_bilevel, mexican_hat};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

/// Records agree on the iterates and every metric but the BGS residual (computed by LSQR when matrix-free).
fn same_record(dense: &Record, free: &Record, tol: f64) -> bool {
    let values = |r: &Record| vec![r.upper, r.lower, r.lower_grad_norm, r.dir_norm];
    let all_close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(p, q)| close(*p, *q, tol));
    all_close(dense.x.as_slice(), free.x.as_slice())
        && all_close(dense.y.as_slice(), free.y.as_slice())
        && all_close(&values(dense), &[free.upper, free.lower, free.lower_grad_norm, free.dir_norm])
        && dense.extras.len() == free.extras.len()
        && dense.extras.iter().zip(&free.extras).all(|((a, p), (b, q))| a == b && close(*p, *q, tol))
}

/// The method with at most `iters` outer iterations, recording every iterate.
fn capped(method: &Method, iters: usize) -> Method {
    match method.clone().with_metrics(Metrics::Every(1)) {
        Method::Bgs(a) => Method::from(BgsOpt { outer_iters: a.outer_iters.min(iters), ..a }),
        Method::Bda(a) => Method::from(Bda { outer_iters: a.outer_iters.min(iters), ..a }),
        Method::Galet(a) => Method::from(Galet { outer_iters: a.outer_iters.min(iters), ..a }),
        Method::Dpbg(a) => Method::from(Dpbg { iters: a.iters.min(iters), ..a }),
        Method::Soba(a) => Method::from(Soba { iters: a.iters.min(iters), ..a }),
        Method::TwoLoop(a) => Method::from(TwoLoop { iters: a.iters.min(iters), ..a }),
    }
}

/// Every case, at most `iters` outer iterations, dense against matrix-free.
fn compare<P: Problem + Clone>(cases: Vec<Case<P>>, iters: usize) -> usize
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let mut compared = 0;
    for case in cases {
        let bgs = capped(&case.method, iters);
        let dense = bgs.solve(&case.problem, &case.x0, &case.y0);
        let products = common::ProductsOnly(case.problem.clone());
        let free = bgs.solve(&products, case.x0.as_slice(), case.y0.as_slice());
        // A run that fails must fail at the same iteration, with the same iterates before it.
        let (dense, free) = match (dense, free) {
            (Ok(d), Ok(f)) => (d, f),
            (
                Err(SolveError::Fault { iteration: i, run: d, .. }),
                Err(SolveError::Fault { iteration: j, run: f, .. }),
            ) => {
                assert_eq!(i, j, "{} {}: faults at different iterations", bgs.name(), bgs.settings());
                (*d, *f)
            }
            (d, f) => panic!("{} {}: {:?} against {:?}", bgs.name(), bgs.settings(), d.err(), f.err()),
        };
        assert_eq!(dense.trace.len(), free.trace.len(), "{} {}", bgs.name(), bgs.settings());
        // A pseudo-inverse with a tiny cutoff inverts the spurious eigenvalue of H near a degenerate manifold
        // (docs/algorithms.md warns against it), which amplifies the different rounding of the two evaluation orders.
        let tol = match &bgs {
            Method::Bgs(BgsOpt { correction: Some(XiSolver::Pinv { rtol }), .. }) if *rtol < 1e-6 => 1e-8,
            _ => 1e-10,
        };
        for (k, (d, f)) in dense.trace.iter().zip(&free.trace).enumerate() {
            assert!(same_record(d, f, tol), "{} {} at k = {k}:\n{d:?}\n{f:?}", bgs.name(), bgs.settings());
        }
        compared += 1;
    }
    compared
}

#[test]
fn matrix_free_runs_equal_the_dense_ones_on_p1_to_p4() {
    let compared = compare(counter_example::cases(), 50)
        + compare(mexican_hat::cases(), 50)
        + compare(galet_example::cases(), 50)
        + compare(huber_bilevel::cases(), 50);
    assert!(compared >= 20, "only {compared} cases");
}

/// Every variant and the ξ-solvers that suit a singular `H` (including those no reference case uses) on P2, the
/// Mexican hat, whose lower Hessian is singular on its circle of solutions. Plain `cg` does not suit it (on an
/// inconsistent singular system its steps grow until rounding decides them); it is compared on the data problem
/// below, whose `H` is regular.
#[test]
fn every_variant_and_solver_equals_the_dense_path_on_p2() {
    let base = mexican_hat::cases().remove(0);
    let methods = [
        BgsOpt::rhg(5),
        BgsOpt::truncated_itd(3, 4),
        BgsOpt::corrected_itd(5, XiSolver::ZCg { iters: 1 }),
        BgsOpt::corrected_itd(5, XiSolver::Gd { step: 0.05 }),
        BgsOpt::corrected_itd(5, XiSolver::Lsqr { iters: 4 }),
        BgsOpt::corrected_itd(5, XiSolver::ADAPTIVE_PINV),
        BgsOpt::aid(20, XiSolver::Lsqr { iters: 5 }),
        BgsOpt { upper_optimizer: UpperOptimizer::ADAM, ..BgsOpt::itd(3) },
        BgsOpt { upper_optimizer: UpperOptimizer::Momentum { beta: 0.8 }, ..BgsOpt::itd(3) },
    ];
    let cases = methods.map(|m| Case { method: Method::from(BgsOpt { lower_step: Some(0.05), ..m }), ..base.clone() });
    assert_eq!(compare(cases.to_vec(), 50), 9);
}

/// On a data problem: the matrix-free run equals the dense run of the same problem with its data written out,
/// and on its positive-definite `H` the product-only solvers give the correction of the exact pseudo-inverse.
#[test]
fn a_data_problem_runs_like_its_dense_twin() {
    let (data, dense) = (common::logistic::small(), common::logistic::LogisticDense);
    let (x0, y0) = (Vector3::new(0.1, -0.2, 0.0), Vector3::new(0.5, 0.5, -0.5));
    let solvers = [XiSolver::Pinv { rtol: 1e-10 }, XiSolver::Cg { iters: 10 }, XiSolver::Lsqr { iters: 10 }];
    let mut finals = Vec::new();
    for solver in solvers {
        for bgs in [BgsOpt::itd(5), BgsOpt::corrected_itd(5, solver), BgsOpt::aid(30, solver)] {
            let bgs = BgsOpt { outer_iters: 40, lower_step: Some(0.5), upper_step: 0.5, ..bgs };
            let want = bgs.solve(&dense, &x0, &y0).unwrap();
            let got = bgs.solve(&data, x0.as_slice(), y0.as_slice()).unwrap();
            for (k, (d, f)) in want.trace.iter().zip(&got.trace).enumerate() {
                assert!(same_record(d, f, 1e-10), "{} {} at k = {k}", bgs.name(), bgs.settings());
            }
            // The final BGS residual by LSQR against the dense pseudo-inverse.
            assert!(close(got.last().bgs_residual, want.last().bgs_residual, 1e-8), "{} residual", bgs.name());
            if bgs.name() == "aid" {
                finals.push(got.x().clone());
            }
        }
    }
    let others = [
        Method::from(Bda { outer_iters: 20, inner_iters: 10, ..Bda::default() }),
        Method::from(Galet { outer_iters: 20, w_iters: 3, r_y_steps: 5, ..Galet::default() }),
        Method::from(Dpbg { iters: 20, lower_iters: 4, lower_step: Some(0.5), step: 0.1, ..Dpbg::default() }),
    ];
    for method in others {
        let want = method.solve(&dense, &x0, &y0).unwrap();
        let got = method.solve(&data, x0.as_slice(), y0.as_slice()).unwrap();
        for (k, (d, f)) in want.trace.iter().zip(&got.trace).enumerate() {
            assert!(same_record(d, f, 1e-10), "{} {} at k = {k}", method.name(), method.settings());
        }
    }
    // Exact H† on a regular H: the three solvers take AID to the same point.
    for x in &finals[1..] {
        assert!((x - &finals[0]).norm() < 1e-9, "{x} vs {}", finals[0]);
    }
}

/// The lower step is checked against the curvature at the start: `α·L_G ≥ 2` is a warning of the run, with the
/// safe step in it; `L_G` by power iteration on products equals the largest eigenvalue of the dense `H`.
#[test]
fn a_lower_step_too_large_for_the_curvature_is_reported() {
    use bilevel::matrix_free::{lower_lipschitz, safe_lower_step};
    let (data, dense) = (common::logistic::small(), common::logistic::LogisticDense);
    let (x0, y0) = (Vector3::new(0.1, -0.2, 0.0), Vector3::new(0.5, 0.5, -0.5));
    let l_g = lower_lipschitz(&data, x0.as_slice(), y0.as_slice());
    let h = dense.lower_hess(&x0, &y0).yy;
    let largest = h.symmetric_eigenvalues().iter().fold(0.0f64, |a, l| a.max(l.abs()));
    assert!((l_g - largest).abs() <= 1e-6 * largest, "{l_g} vs {largest}");
    assert_eq!(safe_lower_step(&data, x0.as_slice(), y0.as_slice()), 1.0 / l_g);
    for (alpha, warned) in [(2.5 / l_g, true), (1.9 / l_g, false)] {
        let bgs = BgsOpt { lower_step: Some(alpha), outer_iters: 3, ..BgsOpt::itd(2) };
        let free = bgs.solve(&data, x0.as_slice(), y0.as_slice()).unwrap();
        let run = bgs.solve(&dense, &x0, &y0).unwrap();
        assert_eq!(free.warnings.len(), usize::from(warned), "{:?}", free.warnings);
        assert_eq!(run.warnings.len(), usize::from(warned), "{:?}", run.warnings);
        if warned {
            assert!(free.warnings[0].contains("α·L_G = 2.50 ≥ 2"), "{}", free.warnings[0]);
            assert!(run.warnings[0].starts_with("the lower step α = "), "{}", run.warnings[0]);
        }
    }
}

/// With no lower step given, every algorithm takes `1/L_G` at the start, says so in the run's notes, and runs
/// exactly as with that step given (dense and matrix-free).
#[test]
fn a_lower_step_not_given_is_one_over_the_curvature() {
    let (data, dense) = (common::logistic::small(), common::logistic::LogisticDense);
    let (x0, y0) = (Vector3::new(0.1, -0.2, 0.0), Vector3::new(0.5, 0.5, -0.5));
    let alpha = bilevel::matrix_free::safe_lower_step(&data, x0.as_slice(), y0.as_slice());
    let auto: [Method; 4] = [
        BgsOpt { outer_iters: 5, ..BgsOpt::corrected_itd(3, XiSolver::Cg { iters: 3 }) }.into(),
        Bda { outer_iters: 5, inner_iters: 4, ..Bda::default() }.into(),
        Galet { outer_iters: 5, ..Galet::default() }.into(),
        Dpbg { iters: 5, ..Dpbg::default() }.into(),
    ];
    let given = |m: &Method| match m.clone() {
        Method::Bgs(a) => Method::from(BgsOpt { lower_step: Some(alpha), ..a }),
        Method::Bda(a) => Method::from(Bda { lower_inner_step: Some(alpha), ..a }),
        Method::Galet(a) => Method::from(Galet { lower_step: Some(alpha), ..a }),
        Method::Dpbg(a) => Method::from(Dpbg { lower_step: Some(alpha), ..a }),
        Method::Soba(a) => Method::from(Soba { step: Some(alpha), ..a }),
        Method::TwoLoop(a) => Method::from(TwoLoop { step: Some(alpha), ..a }),
    };
    for m in &auto {
        assert!(m.settings().contains("=1/L_G"), "{}", m.settings());
        let free = m.solve(&data, x0.as_slice(), y0.as_slice()).unwrap();
        assert_eq!(free.notes.len(), 1, "{}", m.name());
        assert!(free.notes[0].contains("= 1/L_G = "), "{}", free.notes[0]);
        let reference = given(m).solve(&data, x0.as_slice(), y0.as_slice()).unwrap();
        assert_eq!(free.x().as_slice(), reference.x().as_slice(), "{}", m.name());
        let run = m.solve(&dense, &x0, &y0).unwrap();
        assert!((run.x() - free.x()).norm() < 1e-10, "{}: dense and matrix-free", m.name());
        assert!(reference.notes.is_empty());
    }
    // A start of the wrong length is reported as such, not as a step the curvature could not give.
    let err = auto[0].solve(&data, &[0.0; 2], y0.as_slice()).unwrap_err();
    assert!(err.to_string().contains("the start has lengths (2, 3)"), "{err}");
    // The same on a fixed-size problem, whose buffers have its lengths, for every algorithm, step given or not.
    let p1 = counter_example::CounterExample;
    for m in auto.iter().chain(&auto.clone().map(|m| given(&m))) {
        let err = m.solve(&p1, &[0.0], &[0.0; 3]).unwrap_err();
        assert!(err.to_string().contains("the start has lengths (1, 3)"), "{}: {err}", m.name());
    }
}

/// A matrix-free problem that counts the products `H v` asked of it, answers NaN once `poisoned`, and with
/// `rounded` returns from `lower_grad` a value 4 ulps below what `lower` gives (as a fused evaluation may round).
struct CountingProducts<'a, P> {
    inner: &'a P,
    products: std::cell::Cell<usize>,
    poisoned: std::rc::Rc<std::cell::Cell<bool>>,
    rounded: bool,
}

impl<'a, P> CountingProducts<'a, P> {
    fn new(inner: &'a P) -> Self {
        CountingProducts { inner, products: std::cell::Cell::new(0), poisoned: Default::default(), rounded: false }
    }
}

impl<P: MatrixFreeProblem> MatrixFreeProblem for CountingProducts<'_, P> {
    type X = P::X;
    type Y = P::Y;
    type YY = P::YY;
    type XY = P::XY;

    fn name(&self) -> &str {
        self.inner.name()
    }
    fn dims(&self) -> (usize, usize) {
        self.inner.dims()
    }
    fn start(&self) -> (bilevel::nalgebra::DVector<f64>, bilevel::nalgebra::DVector<f64>) {
        self.inner.start()
    }
    fn bounds(&self) -> Option<bilevel::Bounds<Dyn>> {
        self.inner.bounds()
    }
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.upper(x, y)
    }
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        self.inner.lower(x, y)
    }
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.inner.upper_grad(x, y, gx, gy)
    }
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let value = self.inner.lower_grad(x, y, gx, gy);
        if self.rounded {
            value - 4.0 * f64::EPSILON * value.abs()
        } else {
            value
        }
    }
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.inner.upper_hvp_y(x, y, v, hx, hy)
    }
    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.inner.upper_hvp_x(x, y, u, hx, hy)
    }
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.products.set(self.products.get() + 1);
        self.inner.lower_hvp_y(x, y, v, hx, hy);
        if self.poisoned.get() {
            hy.fill(f64::NAN);
        }
    }
    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.inner.lower_hvp_x(x, y, u, hx, hy)
    }
}

bilevel::bilevel! {
    /// A lower level whose minimum value is 1, not 0: its rounding is a few ulps of 1.
    problem OffsetLower {
        upper x: real[2];
        lower y: real[2];
        minimize upper: norm2(y);
        minimize lower: 1 + norm2(y - x) + 0.1 * sum(i in 0..2: (y[i] - x[i])^4);
    }
}

/// The lower-level solve compares values computed the same way: a `lower_grad` whose value rounds 4 ulps below
/// `lower`'s (what refused every step of the hyper-cleaning solve at ‖∇y G‖ = 8.7e-10) still converges.
#[test]
fn the_lower_solve_is_not_fooled_by_a_few_ulps() {
    let dense = OffsetLower;
    let rounded = CountingProducts { rounded: true, ..CountingProducts::new(&dense) };
    let x = [0.3, -0.2];
    let mut y = [0.3 + 1e-9, -0.2 - 2e-9];
    let out = bilevel::matrix_free::solve_lower(&rounded, &x, &mut y, 1e-12, 20);
    assert!(out.converged && out.grad_norm <= 1e-12, "{out:?}");
    let f = bilevel::matrix_free::upper_at_solution(&rounded, &x, &[0.5, 0.5]);
    assert!(f.is_some_and(|f| (f - 0.13).abs() < 1e-10), "{f:?}");
}

/// The curvature at the start is estimated once per run: to choose the lower step when none is given, or to
/// check the step given; a run with the step chosen makes as many products as one with that step given.
#[test]
fn the_curvature_at_the_start_is_estimated_once() {
    let data = common::logistic::small();
    let (x0, y0) = ([0.1, -0.2, 0.0], [0.5, 0.5, -0.5]);
    let alpha = bilevel::matrix_free::safe_lower_step(&data, &x0, &y0);
    let products = |m: Method| {
        let counting = CountingProducts::new(&data);
        m.solve(&counting, &x0, &y0).unwrap();
        counting.products.get()
    };
    let itd = |lower_step| BgsOpt { outer_iters: 3, lower_step, ..BgsOpt::itd(4) };
    let estimate = {
        let counting = CountingProducts::new(&data);
        bilevel::matrix_free::lower_lipschitz(&counting, &x0, &y0);
        counting.products.get()
    };
    assert!(estimate > 1, "power iteration takes several products");
    assert_eq!(products(itd(None).into()), products(itd(Some(alpha)).into()));
    let galet = |lower_step| Galet { outer_iters: 3, lower_step, ..Galet::default() };
    assert_eq!(products(galet(None).into()), products(galet(Some(alpha)).into()));
}

/// The BGS residual of a matrix-free run's last record is computed after the iterations (by LSQR); a residual
/// that is not finite there (the products turned NaN after the last iteration) is a fault at that iteration, the
/// record dropped, not a run that ends as if nothing happened.
#[test]
fn a_final_residual_that_is_not_finite_is_a_fault_at_the_last_iteration() {
    let data = common::logistic::small();
    let (x0, y0) = ([0.1, -0.2, 0.0], [0.5, 0.5, -0.5]);
    let counting = CountingProducts::new(&data);
    let poison = counting.poisoned.clone();
    let itd = BgsOpt { outer_iters: 5, lower_step: Some(0.1), ..BgsOpt::itd(2) };
    // The products turn NaN once the last iteration is done (the progress observer hears of it first).
    let result = itd.solve_observed(&counting, &x0, &y0, &mut |k, n| {
        poison.set(k == n);
        std::ops::ControlFlow::Continue(())
    });
    match result {
        Err(SolveError::Fault { iteration, cause, run }) => {
            assert_eq!(iteration, 5);
            assert!(cause.contains("BGS residual is not finite"), "{cause}");
            assert_eq!(run.trace.len(), 1, "the start only: the last record is dropped");
            assert!(run.trace.iter().all(|r| r.bgs_residual.is_finite()));
        }
        other => panic!("expected a fault, got {other:?}"),
    }
    // Without the poison the same run ends normally with a finite residual.
    let run = BgsOpt { outer_iters: 5, lower_step: Some(0.1), ..BgsOpt::itd(2) }.solve(&data, &x0, &y0);
    assert!(run.unwrap().trace.last().unwrap().bgs_residual.is_finite());
}

bilevel::bilevel! {
    /// A well-posed quadratic: y = A x at the lower level, so x* = (AᵀA + 0.1 I)⁻¹ Aᵀ b.
    problem Quadratic {
        upper x: real[2];
        lower y: real[2];
        const A = [[1, 0.5], [0.2, 1]];
        minimize lower: 0.5 * norm2(y - A * x);
        minimize upper: 0.5 * norm2(y - [1, 2]) + 0.05 * norm2(x);
    }
}

/// Momentum and Adam on the upper level reach the optimum plain gradient steps reach, on both paths.
#[test]
fn momentum_and_adam_reach_the_optimum() {
    let a = bilevel::nalgebra::Matrix2::new(1.0, 0.5, 0.2, 1.0);
    let b = bilevel::nalgebra::Vector2::new(1.0, 2.0);
    let x_star =
        (a.transpose() * a + bilevel::nalgebra::Matrix2::identity() * 0.1).lu().solve(&(a.transpose() * b)).unwrap();
    let base = BgsOpt { lower_step: Some(0.5), outer_iters: 4000, ..BgsOpt::aid(20, XiSolver::Cg { iters: 5 }) };
    for (rule, step) in
        [(UpperOptimizer::Gradient, 0.5), (UpperOptimizer::Momentum { beta: 0.9 }, 0.05), (UpperOptimizer::ADAM, 0.01)]
    {
        let bgs = BgsOpt { upper_optimizer: rule, upper_step: step, ..base.clone() };
        let run = bgs.solve(&Quadratic, &[0.0; 2], &[0.0; 2]).unwrap_or_else(|e| panic!("{e}"));
        assert!((run.x() - x_star).norm() < 1e-6, "{}: {} vs {x_star}", bgs.settings(), run.x());
    }
}

bilevel::bilevel! {
    /// The quadratic above with a box that holds the optimum on its boundary.
    problem BoxedQuadratic {
        upper x: real[2] in [0, 0.1];
        lower y: real[2];
        const A = [[1, 0.5], [0.2, 1]];
        minimize lower: 0.5 * norm2(y - A * x);
        minimize upper: 0.5 * norm2(y - [1, 2]) + 0.05 * norm2(x);
    }
}

/// At a constrained optimum the hypergradient is not zero, but the projected BGS residual is, by the exact
/// pseudo-inverse of the dense blocks and by LSQR on products.
#[test]
fn the_bgs_residual_is_projected_on_the_box() {
    let bgs = BgsOpt {
        lower_step: Some(0.5),
        upper_step: 0.5,
        outer_iters: 300,
        ..BgsOpt::aid(20, XiSolver::Cg { iters: 5 })
    };
    let run = bgs.solve(&BoxedQuadratic, &[0.0; 2], &[0.0; 2]).unwrap();
    assert_eq!(run.x().as_slice(), &[0.1, 0.1], "both components at the upper end");
    assert!(run.trace[0].bgs_residual > 0.1, "{}", run.trace[0].bgs_residual);
    assert!(run.last().bgs_residual < 1e-8, "{}", run.last().bgs_residual);
    let free = bgs.solve(&common::ProductsOnly(BoxedQuadratic), &[0.0; 2], &[0.0; 2]).unwrap();
    assert!(free.last().bgs_residual < 1e-8, "{}", free.last().bgs_residual);
}

/// A matrix-free run that diverges ends its trace at the last finite iterate, recorded when the fault comes
/// even though only the start and the end are kept.
#[test]
fn a_matrix_free_fault_keeps_the_last_finite_iterate() {
    // The lower level is ½‖y − A x‖² (L_G = 1): a lower step of 3 doubles the error at each step.
    let bgs = BgsOpt {
        lower_step: Some(3.0),
        outer_iters: 500,
        stop: bilevel::Stop { divergence_bound: 1e8, ..Default::default() },
        ..BgsOpt::itd(3)
    };
    match bgs.solve(&Quadratic, &[0.5, 0.5], &[0.1, 0.1]) {
        Err(SolveError::Fault { iteration, run, .. }) => {
            assert_eq!(run.trace.len(), 2, "the start and the last finite iterate");
            assert_eq!(run.last().iteration, iteration - 1);
            assert!(run.last().y.norm() <= 1e8 && run.last().upper.is_finite());
            assert_eq!(run.seconds.len(), 2);
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// `Metrics::Full(k)`: the same iterates as `Every(k)`, each record with the costly metrics too (the BGS
/// residual by LSQR and F at the solved lower level), dense and matrix-free.
#[test]
fn full_metrics_every_k_iterations() {
    let data = common::logistic::small();
    let bgs = BgsOpt { lower_step: Some(1.0), outer_iters: 6, ..BgsOpt::corrected_itd(3, XiSolver::Cg { iters: 3 }) };
    let (x0, y0) = ([0.1, -0.2, 0.0], [0.5, 0.5, -0.5]);
    let full = BgsOpt { metrics: Metrics::Full(2), ..bgs.clone() }.solve(&data, &x0, &y0).unwrap();
    let every = BgsOpt { metrics: Metrics::Every(2), ..bgs.clone() }.solve(&data, &x0, &y0).unwrap();
    assert_eq!(full.trace.iter().map(|r| r.iteration).collect::<Vec<_>>(), [0, 2, 4, 6]);
    for (f, e) in full.trace.iter().zip(&every.trace) {
        assert_eq!((&f.x, &f.y), (&e.x, &e.y));
        assert!(f.bgs_residual.is_finite() && f.upper_at_solution.is_some(), "{f:?}");
    }
    assert!(every.trace[1].bgs_residual.is_nan() && every.trace[1].upper_at_solution.is_none());
    let dense = BgsOpt { metrics: Metrics::Full(2), ..bgs }.solve(&common::logistic::LogisticDense, &x0, &y0);
    let dense = dense.unwrap();
    for (d, f) in dense.trace.iter().zip(&full.trace) {
        let (a, b) = (d.upper_at_solution.unwrap(), f.upper_at_solution.unwrap());
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
}

/// DPBG on the Huber example stops at y = 0.1, which is not a lower-level solution: its F there is 0, while F at
/// the lower solution reached from it is (1 − 0.1)² = 0.81.
#[test]
fn the_upper_objective_at_the_lower_solution_exposes_a_biased_y() {
    let case = huber_bilevel::cases().into_iter().find(|c| c.method.name() == "dpbg").unwrap();
    let method = capped(&case.method, 5000);
    let run = method.solve(&case.problem, &case.x0, &case.y0).unwrap();
    let last = run.last();
    assert!(last.upper < 1e-6 && last.lower_grad_norm > 0.1, "F = {}, ‖∇y G‖ = {}", last.upper, last.lower_grad_norm);
    let at_solution = last.upper_at_solution.expect("the lower level is solved from y");
    assert!((at_solution - 0.81).abs() < 1e-8, "{at_solution}");
    assert!(run.trace[..run.trace.len() - 1].iter().all(|r| r.upper_at_solution.is_none()));
}

/// Loops over samples run on several threads in fixed chunks summed in a fixed order: a run with one thread and
/// a run with two give the same trace, bit for bit, on a problem large enough to be split (N = 5000).
#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    use bilevel::data::Array;
    use common::logistic::{LogisticRegression, LogisticRegressionData};
    let rows = 5000;
    let x = common::numbers(rows * 3, 7);
    let t: Vec<f64> = common::numbers(rows, 8).iter().map(|v| v.signum()).collect();
    let data = || LogisticRegressionData {
        X: Array::matrix(rows, 3, x.clone()).unwrap(),
        t: Array::vector(t.clone()),
        Xv: Array::matrix(rows, 3, x.clone()).unwrap(),
        tv: Array::vector(t.clone()),
    };
    let problem = LogisticRegression::new(data()).unwrap();
    let bgs = BgsOpt {
        lower_step: Some(0.5),
        upper_step: 0.5,
        outer_iters: 5,
        metrics: Metrics::Every(1),
        ..BgsOpt::corrected_itd(3, XiSolver::Cg { iters: 3 })
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| bgs.solve(&problem, &[0.1, -0.2, 0.3], &[0.0; 3]).unwrap())
    };
    let (one, two) = (run(1), run(2));
    // Compared as printed (every digit of every number; NaN, the BGS residual between start and end, equals NaN).
    assert_eq!(format!("{:?}", one.trace), format!("{:?}", two.trace));
    assert!(bilevel::parallel::chunk_size(rows, 6) < rows, "the loops are split");
}
