//! Solving the lower level to a tolerance by products: truncated Newton (CG on `H p = −∇y G`) with a
//! backtracking line search on `G`.

use super::krylov::Krylov;
use super::vector::{axpy, dot, norm};
use super::MatrixFreeProblem;

/// How a lower-level solve ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LowerSolve {
    /// Newton iterations done.
    pub iterations: usize,
    /// `‖∇y G(x, y)‖` at the returned `y`.
    pub grad_norm: f64,
    /// Whether `‖∇y G‖ ≤ tol` was reached.
    pub converged: bool,
}

/// Minimizes `G(x, ·)` from `y` (updated in place) until `‖∇y G(x, y)‖ ≤ tol` or `max_iters` Newton iterations.
///
/// Each iteration solves `H p = −∇y G` by at most `min(m, 200)` CG iterations to the relative accuracy
/// `min(0.5, ‖∇y G‖^½)` (truncated Newton: superlinear near a regular minimizer); where CG meets non-positive
/// curvature it keeps the direction found so far, or the steepest descent direction if there is none. A
/// backtracking line search (Armijo, factor ½) makes `G` decrease at every step, the values it compares all
/// computed by [`MatrixFreeProblem::lower`] (the value `lower_grad` returns may round differently by a few ulps,
/// which near the solution would refuse every step). Used for the baselines of the examples and for comparing
/// methods at the solved lower level.
///
/// ```
/// use bilevel_runtime::matrix_free::solve_lower;
/// # use bilevel_runtime::nalgebra::{Const, OVector};
/// # #[derive(Clone)] struct Q;
/// # type V = OVector<f64, Const<1>>;
/// # impl bilevel_runtime::Problem for Q {
/// #     type N = Const<1>; type M = Const<1>;
/// #     fn name(&self) -> &str { "Q" }
/// #     fn dims(&self) -> (Const<1>, Const<1>) { (Const, Const) }
/// #     fn start(&self) -> (V, V) { (V::zeros(), V::zeros()) }
/// #     fn bounds(&self) -> Option<bilevel_runtime::Bounds<Const<1>>> { None }
/// #     fn upper(&self, x: &V, y: &V) -> f64 { y[0] }
/// #     fn lower(&self, x: &V, y: &V) -> f64 { (y[0] - x[0]).powi(4) + y[0] * y[0] }
/// #     fn upper_grad(&self, x: &V, y: &V) -> bilevel_runtime::Grad<Const<1>, Const<1>> { unimplemented!() }
/// #     fn lower_grad(&self, x: &V, y: &V) -> bilevel_runtime::Grad<Const<1>, Const<1>> {
/// #         let d = y[0] - x[0];
/// #         bilevel_runtime::Grad { value: self.lower(x, y), x: V::new(-4.0 * d.powi(3)), y: V::new(4.0 * d.powi(3) + 2.0 * y[0]) }
/// #     }
/// #     fn upper_hess(&self, x: &V, y: &V) -> bilevel_runtime::Hess<Const<1>, Const<1>> { unimplemented!() }
/// #     fn lower_hess(&self, x: &V, y: &V) -> bilevel_runtime::Hess<Const<1>, Const<1>> {
/// #         let (d, g) = (y[0] - x[0], self.lower_grad(x, y));
/// #         bilevel_runtime::Hess { value: g.value, grad_x: g.x, grad_y: g.y, yy: [12.0 * d * d + 2.0].into(), xy: [-12.0 * d * d].into() }
/// #     }
/// #     fn upper_hess_xx(&self, x: &V, y: &V) -> bilevel_runtime::nalgebra::Matrix1<f64> { unimplemented!() }
/// #     fn lower_hess_xx(&self, x: &V, y: &V) -> bilevel_runtime::nalgebra::Matrix1<f64> { unimplemented!() }
/// # }
/// // G(x, y) = (y − x)⁴ + y²: at x = 1 the minimizer solves 4(y − 1)³ + 2y = 0.
/// let mut y = [5.0];
/// let out = solve_lower(&Q, &[1.0], &mut y, 1e-12, 50);
/// assert!(out.converged);
/// assert!((4.0 * (y[0] - 1.0f64).powi(3) + 2.0 * y[0]).abs() <= 1e-12);
/// ```
pub fn solve_lower<P: MatrixFreeProblem>(
    problem: &P,
    x: &[f64],
    y: &mut [f64],
    tol: f64,
    max_iters: usize,
) -> LowerSolve {
    let (n, m) = problem.dims();
    let v = |k: usize| vec![0.0; k];
    let (mut gx, mut g, mut p, mut minus_g, mut trial, mut scratch) = (v(n), v(m), v(m), v(m), v(m), v(n));
    let mut g_trial = v(m);
    let mut krylov = Krylov::new(m);
    problem.lower_grad(x, y, &mut gx, &mut g);
    for k in 0..max_iters {
        // The value the trials are compared with, computed as theirs are (`lower_grad`'s own value can differ from
        // `lower` by a few ulps, which refused every step near the solution).
        let value = problem.lower(x, y);
        let grad_norm = norm(&g);
        if grad_norm <= tol {
            return LowerSolve { iterations: k, grad_norm, converged: true };
        }
        minus_g.iter_mut().zip(&g).for_each(|(a, b)| *a = -b);
        p.iter_mut().for_each(|c| *c = 0.0);
        let mut h = |u: &[f64], out: &mut [f64]| problem.lower_hvp_y(x, y, u, &mut scratch, out);
        krylov.cg(&mut h, &minus_g, &mut p, m.min(200), grad_norm.sqrt().min(0.5));
        let descent = dot(&g, &p) < 0.0; // false for NaN too
        if !descent {
            p.copy_from_slice(&minus_g); // no descent direction from CG: steepest descent
        }
        let slope = dot(&g, &p);
        // Near the solution the decrease a step promises can be below the rounding of `G` itself: a full step is
        // then judged by the gradient, which still measures progress (without it, the solve stopped short of
        // 1e-10 at ‖∇y G‖ ≈ 1e-9 wherever `G` rounded up by an ulp).
        let negligible = -slope <= 1e-13 * value.abs().max(1.0);
        let mut t = 1.0;
        let accepted = loop {
            trial.copy_from_slice(y);
            axpy(&mut trial, t, &p);
            let next = problem.lower(x, &trial);
            if next <= value + 1e-4 * t * slope {
                break true;
            }
            if negligible && t == 1.0 {
                problem.lower_grad(x, &trial, &mut gx, &mut g_trial);
                if norm(&g_trial) < grad_norm {
                    break true;
                }
            }
            t *= 0.5;
            if t < 1e-20 {
                break false;
            }
        };
        if !accepted {
            return LowerSolve { iterations: k, grad_norm, converged: false };
        }
        y.copy_from_slice(&trial);
        problem.lower_grad(x, y, &mut gx, &mut g);
    }
    let grad_norm = norm(&g);
    LowerSolve { iterations: max_iters, grad_norm, converged: grad_norm <= tol }
}

/// `F(x, ŷ)` with `ŷ` the lower level solved from `y` to `‖∇y G‖ ≤ 1e-10` (at most 100 Newton iterations),
/// or `None` if the solve does not converge.
pub fn upper_at_solution<P: MatrixFreeProblem>(problem: &P, x: &[f64], y: &[f64]) -> Option<f64> {
    let mut solved = y.to_vec();
    let out = solve_lower(problem, x, &mut solved, 1e-10, 100);
    out.converged.then(|| problem.upper(x, &solved))
}

/// An estimate of the lower level's Lipschitz constant `L_G = ‖∇²yy G(x, y)‖` at one point: the largest
/// eigenvalue in magnitude of `H`, by at most 200 steps of power iteration on products, reading the Rayleigh
/// quotient (stopping when it changes by less than 1e-10 relative). A lower gradient step `α` converges locally
/// when `α L_G < 2`; `1 / L_G` is the usual safe choice ([`safe_lower_step`]). `L_G` can vary with `(x, y)`: this
/// is its value here.
pub fn lower_lipschitz<P: MatrixFreeProblem>(problem: &P, x: &[f64], y: &[f64]) -> f64 {
    let (n, m) = problem.dims();
    // A fixed start with no special direction (a deterministic sequence in [0.5, 1.5)).
    let mut v: Vec<f64> = (0..m).map(|i| 0.5 + ((i as u64 * 2654435761) % 1000) as f64 / 1000.0).collect();
    let start = norm(&v);
    v.iter_mut().for_each(|c| *c /= start);
    let (mut hv, mut scratch) = (vec![0.0; m], vec![0.0; n]);
    let mut estimate = 0.0;
    for _ in 0..200 {
        problem.lower_hvp_y(x, y, &v, &mut scratch, &mut hv);
        let (size, rayleigh) = (norm(&hv), dot(&v, &hv).abs());
        if size == 0.0 || !size.is_finite() {
            return size;
        }
        v.iter_mut().zip(&hv).for_each(|(a, b)| *a = b / size);
        let settled = (rayleigh - estimate).abs() <= 1e-10 * rayleigh;
        estimate = rayleigh;
        if settled {
            break;
        }
    }
    estimate
}

/// `1 / L_G` at `(x, y)` ([`lower_lipschitz`]): a lower step for which gradient descent on `G(x, ·)` decreases
/// `G` where the curvature is as here.
pub fn safe_lower_step<P: MatrixFreeProblem>(problem: &P, x: &[f64], y: &[f64]) -> f64 {
    1.0 / lower_lipschitz(problem, x, y)
}

/// The lower step of a run: its symbol (as in docs/algorithms.md), its value, whether it was chosen as `1/L_G`
/// from the curvature at the start (then it is not checked against that curvature), and that curvature `L_G`
/// (estimated once per run, for the step and for every check of a step against it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LowerStep {
    pub name: &'static str,
    pub value: f64,
    pub from_curvature: bool,
    pub curvature: f64,
}

/// Runs `run` with its lower step: `given`, or for an algorithm given none `fraction / L_G` with `L_G` estimated at
/// the start `(x0, y0)` (x0 projected onto the box; `fraction` is 1 but for the stochastic methods with constant steps), the choice noted in the run. A start where the curvature gives no step
/// (`L_G` zero or not finite) is an error asking for one; a run with a chosen step that faults gets a warning saying
/// that a smaller step may help. A start `x0` outside the box is noted too (the run starts from its projection).
pub(crate) fn with_lower_step<P: MatrixFreeProblem>(
    (name, given, fraction): (&'static str, Option<f64>, f64),
    (problem, x0, y0): (&P, &[f64], &[f64]),
    run: impl FnOnce(LowerStep) -> crate::SolveResult,
) -> crate::SolveResult {
    use crate::SolveError;
    // First, so that no buffer of the problem's sizes is made from a start of other lengths.
    crate::driver::check_start(problem, x0, y0)?;
    let mut x = x0.to_vec();
    crate::driver::project(problem.bounds().as_ref(), &mut x);
    let mut notes = Vec::new();
    if x != x0 {
        notes.push(format!("the start x = {x0:?} is outside the box; the run starts from its projection {x:?}"));
    }
    let l_g = lower_lipschitz(problem, &x, y0);
    let lower = match given {
        Some(value) => LowerStep { name, value, from_curvature: false, curvature: l_g },
        None => {
            if !(l_g.is_finite() && l_g > 0.0) {
                return Err(SolveError::Options(format!(
                    "no lower step {name} was given, and the lower level's curvature at the start gives none \
                     (L_G ≈ {l_g}); give {name} (a lower gradient step converges for {name}·L_G < 2)"
                )));
            }
            let value = fraction / l_g;
            notes.push(format!(
                "lower step {name} = {}/L_G = {value:.6e}, from the curvature at the start (L_G ≈ {l_g:.6e})",
                fraction
            ));
            LowerStep { name, value, from_curvature: true, curvature: l_g }
        }
    };
    let result = run(lower);
    // A step chosen from the curvature at the start is too large where the curvature grows: a fault says so.
    let advice = match (&result, lower.from_curvature) {
        (Err(SolveError::Fault { .. }), true) => Some(format!(
            "the lower step {name} = {:.6e} was chosen as {fraction}/L_G from the curvature at the start: where the \
             lower level curves more than there, a smaller lower step (`lower_step`; tool --lower-step) keeps the \
             steps stable",
            lower.value
        )),
        _ => None,
    };
    crate::error::with_run(result, |r| {
        r.notes.extend(notes);
        r.warnings.extend(advice);
    })
}

/// The warning for a lower step `alpha` too large for `l_g` (`α L_G ≥ 2`), if it is.
pub(crate) fn step_warning(name: &str, alpha: f64, l_g: f64) -> Option<String> {
    (alpha * l_g >= 2.0).then(|| {
        format!(
            "the lower step {name} = {alpha} is too large for the lower level's curvature at the start \
             (L_G ≈ {l_g:.4}, {name}·L_G = {:.2} ≥ 2): lower gradient steps oscillate or diverge there; \
             take {name} < 2/L_G = {:.4} (1/L_G = {:.4} is safe)",
            alpha * l_g,
            2.0 / l_g,
            1.0 / l_g
        )
    })
}
