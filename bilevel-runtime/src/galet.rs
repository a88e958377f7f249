//! GALET (Xiao, Lu & Chen, NeurIPS 2023, Algorithm 1): alternating steps on y, the shadow implicit gradient w, and x.

use nalgebra::{DefaultAllocator, Dyn};

use crate::algorithm::Algorithm;
use crate::dims::Alloc;
use crate::driver::{check_steps, Metrics, Schedule, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::{with_auto_lower_step, MatrixFreeProblem};
use crate::upper::{step_text, with_optimizer, UpperOptimizer};

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
    /// Which iterates the trace keeps (every one by default).
    pub metrics: Metrics,
}

impl Default for Galet {
    /// The paper's defaults: `α = 0.3`, `K = 30`, `β = 1`, `N = 1`, `ρ = 0.1`, `T = 1`, warm `w`.
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
    pub(crate) fn schedule(&self) -> Schedule {
        Schedule { iters: self.outer_iters, stop: self.stop, lower_step: ("β", self.alpha()), metrics: self.metrics }
    }

    /// Checks the steps.
    pub(crate) fn check<N: nalgebra::Dim, M: nalgebra::Dim>(&self) -> Result<(), SolveError<N, M>>
    where
        DefaultAllocator: Alloc<N, M>,
    {
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

impl Algorithm for Galet {
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

    fn solve_matrix_free<P: MatrixFreeProblem>(&self, problem: &P, x0: &[f64], y0: &[f64]) -> SolveResult<Dyn, Dyn> {
        match self.lower_step {
            Some(_) => self.matrix_free(problem, x0, y0),
            None => with_auto_lower_step("β", (problem, x0, y0), |alpha| {
                Self { lower_step: Some(alpha), ..self.clone() }.matrix_free(problem, x0, y0)
            }),
        }
    }
}
