//! GALET (Xiao, Lu & Chen, NeurIPS 2023, Algorithm 1): alternating steps on y, the shadow implicit gradient w, and x.

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{with_run, SolveError, SolveResult};
use crate::matrix_free::curvature::{Curvature, Objective};
use crate::matrix_free::unroll::{descend, Scratch};
use crate::matrix_free::vector::{axpy, dot, norm, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};
use crate::upper::{step_text, with_optimizer, UpperOptimizer, UpperState};

/// GALET: for lower levels that satisfy the PL condition (possibly with a singular Hessian).
///
/// ```text
/// for k = 0..K-1:
///     y ← N steps of y ← y − β ∇y G(x, y)
///     w ← warm_w ? w : 0
///     repeat T times:  w ← w − ρ H (∇y F(x, y) + H w)         # H = ∇²yy G(x, y)
///     d = ∇x F(x, y) + B w;   x ← Π_X(x − α d)
/// ```
/// The paper writes `w^{k,0} = 0`, but with its default `T = 1` that does not converge (measured on its
/// Example 1: the optimality gap stays ≈ 0.13–0.26 after 30 iterations); warm-starting `w` from the previous
/// iterate reaches ≈ 1e-4 in 30 iterations and ≈ 1e-15 in 300. Both are available; `warm_w` defaults to true.
///
/// Each iteration records the paper's residuals (eq. 8) at `(x_{k-1}, y_k, w_k)`: `R_x = ‖∇x F + B w‖²`,
/// `R_w = ‖H (∇y F + H w)‖²` and, when `r_y_steps > 0`, `R_y = G(x, y) − G*(x)` with `G*(x)` estimated by
/// `r_y_steps` further lower gradient steps. On a non-singleton lower level GALET converges to stationary points of
/// the value-function reformulation (on the BDA paper's Example 1 from y = (0, 0): `x → 0.5`).
///
/// ```
/// use bilevel_runtime::{Algorithm, Galet};
/// assert_eq!(Galet::default().name(), "galet");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Galet {
    /// Outer iterations `K`.
    pub outer_iters: usize,
    /// Lower gradient steps `N` per iteration.
    pub lower_iters: usize,
    /// Lower step `β` (`None`: `1/L_G` estimated at the start, the default).
    pub lower_step: Option<f64>,
    /// Steps `T` on `w` per iteration.
    pub w_iters: usize,
    /// Step `ρ` on `w`.
    pub w_step: f64,
    /// Upper step `α`.
    pub upper_step: f64,
    /// How the hypergradient becomes the upper step (plain gradient by default; momentum or Adam).
    pub upper_optimizer: UpperOptimizer,
    /// Keep `w` from the previous iteration (true) or restart it from 0 (false, as the paper writes).
    pub warm_w: bool,
    /// Lower steps used to estimate `G*(x)` for `R_y` (0: `R_y` is not computed).
    pub r_y_steps: usize,
    /// When to stop besides the iteration count.
    pub stop: Stop,
    /// Which iterates the trace keeps (by default the start and the last, [`Metrics::End`]).
    pub metrics: Metrics,
}

impl Default for Galet {
    /// The paper's defaults `α = 0.3`, `K = 30`, `N = 1`, `ρ = 0.1`, `T = 1`, warm `w`, and the lower step
    /// `β = 1/L_G` at the start (`None`; the paper takes `β = 1` on its example).
    fn default() -> Self {
        Galet {
            outer_iters: 30,
            lower_iters: 1,
            lower_step: None,
            w_iters: 1,
            w_step: 0.1,
            upper_step: 0.3,
            upper_optimizer: UpperOptimizer::Gradient,
            warm_w: true,
            r_y_steps: 0,
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl Galet {
    /// The iterations, stopping rule and lower step of a run.
    pub(crate) fn schedule(&self, lower: LowerStep) -> Schedule {
        Schedule { iters: self.outer_iters, stop: self.stop, lower, metrics: self.metrics }
    }

    /// Checks the steps.
    pub(crate) fn check(&self) -> Result<(), SolveError> {
        self.upper_optimizer.check().map_err(SolveError::Options)?;
        check_steps(&[("lower_step", self.alpha()), ("w_step", self.w_step), ("upper_step", self.upper_step)])
    }
}

impl Galet {
    /// The lower step (NaN when not chosen yet, which the checks reject).
    pub(crate) fn alpha(&self) -> f64 {
        self.lower_step.unwrap_or(f64::NAN)
    }
}

impl Iterate for Galet {
    const LOWER_STEP: &'static str = "β";

    fn name(&self) -> String {
        "galet".into()
    }

    fn settings(&self) -> String {
        let s = format!(
            "N={} β={} T={} ρ={} α={} K={} {}",
            self.lower_iters,
            step_text(self.lower_step),
            self.w_iters,
            self.w_step,
            self.upper_step,
            self.outer_iters,
            if self.warm_w { "warm-w" } else { "reset-w" }
        );
        with_optimizer(s, &self.upper_optimizer)
    }

    fn lower_step(&self) -> Option<f64> {
        self.lower_step
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Self { lower_step: Some(value), ..self.clone() }
    }

    /// The run from `(x0, y0)` with a lower step given. Each step on `w` takes two products at `(x_{k-1}, y_k)`
    /// (`H w` with `B w`, then `H (∇y F + H w)`), from the point's blocks where the problem has them. Buffers are
    /// allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let (n, m) = problem.dims();
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let mut s = Scratch::<P>::new(n, m);
        let (mut fx, mut fy, mut w, mut r, mut hr) = (xs(n), ys(m), ys(m), ys(m), ys(m));
        let (mut bw, mut old, mut y_star) = (xs(n), xs(n), ys(m));
        let mut at = Curvature::point(problem, Objective::Lower);
        let (mut upper, mut step) = (UpperState::new(n), xs(n));
        let bounds = problem.bounds();
        let warning = w_step_warning(self.w_step, lower.curvature);
        let result = run(problem, (x0, y0), self.schedule(lower), Vec::new(), observer, |_, x, y, kept| {
            descend(problem, x, y, self.lower_iters, self.alpha(), &mut s);
            problem.upper_grad(x, y, &mut fx, &mut fy);
            at.place(problem, 0, (x, y), (&mut s.gx, &mut s.gy));
            if !self.warm_w {
                w.iter_mut().for_each(|c| *c = 0.0);
            }
            let at = (problem, &at, &*x, &fy[..]);
            for _ in 0..self.w_iters {
                residual(at, &w, (&mut r, &mut hr, &mut bw, &mut s.hx));
                axpy(&mut w, -self.w_step, &hr);
            }
            residual(at, &w, (&mut r, &mut hr, &mut bw, &mut s.hx));
            axpy(&mut fx, 1.0, &bw); // d = ∇x F + B w
            let mut extras = Vec::new();
            if kept {
                extras = vec![("R_x".into(), dot(&fx, &fx)), ("R_w".into(), dot(&hr, &hr))];
            }
            if kept && self.r_y_steps > 0 {
                y_star.copy_from_slice(y);
                descend(problem, x, &mut y_star, self.r_y_steps, self.alpha(), &mut s);
                extras.push(("R_y".into(), problem.lower(x, y) - problem.lower(x, &y_star)));
            }
            upper.direction(&self.upper_optimizer, &fx, &mut step);
            let moved = upper_step(bounds.as_ref(), x, &step, self.upper_step, &mut old);
            Step { dir_norm: norm(&fx), moved, extras }
        });
        with_run(result, |r| r.warnings.extend(warning))
    }
}

/// The warning for a step `ρ` on `w` too large for the lower level's curvature `l_g` at the start: the `w` steps
/// multiply the error by `I − ρ H²`, which grows it when `ρ L_G² ≥ 2`.
fn w_step_warning(rho: f64, l_g: f64) -> Option<String> {
    (rho * l_g * l_g >= 2.0).then(|| {
        format!(
            "GALET's step ρ = {rho} on w is too large for the lower level's curvature at the start (L_G ≈ {l_g:.4}, \
             ρ·L_G² = {:.2} ≥ 2): the w steps oscillate or diverge there; take ρ < 2/L_G² = {:.4} (tool --xi-step)",
            rho * l_g * l_g,
            2.0 / (l_g * l_g)
        )
    })
}

/// `r = ∇y F + H w` (and `B w` into `bw`), then `hr = H r`, at the point kept in `at` (`hx` is scratch).
#[inline(always)]
fn residual<P: MatrixFreeProblem>(
    (problem, at, x, fy): (&P, &Curvature, &[f64], &[f64]),
    w: &[f64],
    (r, hr, bw, hx): (&mut [f64], &mut [f64], &mut [f64], &mut [f64]),
) {
    at.apply(problem, 0, x, w, (bw, r));
    axpy(r, 1.0, fy);
    at.apply(problem, 0, x, r, (hx, hr));
}
