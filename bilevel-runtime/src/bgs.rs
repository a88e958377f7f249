//! BGS-Opt (Arbel & Mairal 2022, Algorithm 1): `itd`, `rhg`, `truncated-itd`, `corrected-itd` and `aid`.

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::curvature::{Curvature, Objective};
use crate::matrix_free::unroll::{descend, Scratch, Unrolled};
use crate::matrix_free::vector::{axpy, norm, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};
use crate::trace::Extra;
use crate::upper::{step_text, with_optimizer, UpperOptimizer, UpperState};
use crate::xi::{XiSolver, XiState};

/// BGS-Opt: unrolled (ITD) hypergradient descent, optionally truncated, cold-started or corrected.
///
/// With `S(x, y) = y − α ∇y G(x, y)` and `φ_T = S^T`, each outer iteration `k = 1..K` does
/// ```text
/// y_init = warm ? y_{k-1} : y_0
/// ỹ_k    = φ_M(x_{k-1}, y_init)                  # warm-up steps, not differentiated
/// y_k    = φ_T(x_{k-1}, ỹ_k)                     # unrolled: J_x ← J_x (I − α H_t) − α B_t, J_y ← J_y (I − α H_t)
/// d_k    = ∇x F(x_{k-1}, y_k) + J_x ∇y F(x_{k-1}, y_k)
/// if correction:
///     v_k  = J_y ∇y F(x_{k-1}, y_k)
///     ξ_k ≈ −H(x_{k-1}, y_k)† v_k                 # by the chosen XiSolver
///     d_k += B(x_{k-1}, y_k) ξ_k
/// x_k    = Π_X(x_{k-1} − γ d_k)
/// ```
/// Presets (the paper's Table 1): [`BgsOpt::itd`] (M = 0, warm; this is also Bolte et al.'s **SMBG** with
/// k = T), [`BgsOpt::rhg`] (cold start from `y_0` at every outer step, the baseline of the BDA paper),
/// [`BgsOpt::truncated_itd`] (M > 0), [`BgsOpt::corrected_itd`] (with a correction) and [`BgsOpt::aid`]
/// (T = 0, M > 0, corrected: then `d_k = ∇x F − B H† ∇y F`, approximate implicit differentiation).
///
/// On a lower level with many solutions the uncorrected methods do not reach the optimistic solution: warm `itd`
/// settles where its unrolled `T`-step map is stationary, which depends on `T` and `α` (on the BDA paper's
/// Example 1, `x → c/(1+c)` with `c = 1 − (1−α)^T`), and `rhg` where the cold-started map is (`x → c/(1+c²)`).
/// The corrected methods converge to equilibria of the Bilevel Game with Selection (the follower keeps its own
/// choice among its minimizers; on Example 1, `x → (1 + y[1]_0)/2`), independently of `T`.
///
/// ```
/// use bilevel_runtime::{Algorithm, BgsOpt, XiSolver};
/// let itd = BgsOpt { lower_step: Some(0.2), upper_step: 0.5, outer_iters: 3000, ..BgsOpt::itd(5) };
/// assert_eq!(itd.name(), "itd");
/// assert_eq!(BgsOpt::corrected_itd(10, XiSolver::PINV).name(), "corrected-itd");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BgsOpt {
    /// Outer iterations `K`.
    pub outer_iters: usize,
    /// Unrolled (differentiated) lower steps `T`.
    pub unrolled_steps: usize,
    /// Warm-up lower steps `M` before the unrolled ones (not differentiated).
    pub warm_steps: usize,
    /// Lower step `α` (`None`: `1/L_G` estimated at the start, the default).
    pub lower_step: Option<f64>,
    /// Upper step `γ`.
    pub upper_step: f64,
    /// How the hypergradient becomes the upper step (plain gradient by default; momentum or Adam).
    pub upper_optimizer: UpperOptimizer,
    /// Start the lower steps of iteration `k` from `y_{k-1}` (true) or from `y_0` (false).
    pub warm: bool,
    /// The implicit-gradient correction, if any.
    pub correction: Option<XiSolver>,
    /// When to stop besides the iteration count.
    pub stop: Stop,
    /// Which iterates the trace keeps (by default the start and the last, [`Metrics::End`]).
    pub metrics: Metrics,
}

impl Default for BgsOpt {
    /// `itd` with `T = 10`, `γ = 0.1`, `K = 1000` and the lower step `α = 1/L_G` at the start (`None`).
    fn default() -> Self {
        BgsOpt {
            outer_iters: 1000,
            unrolled_steps: 10,
            warm_steps: 0,
            lower_step: None,
            upper_step: 0.1,
            upper_optimizer: UpperOptimizer::Gradient,
            warm: true,
            correction: None,
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl BgsOpt {
    /// `itd`: `T` unrolled steps, warm start, no truncation, no correction.
    pub fn itd(unrolled_steps: usize) -> Self {
        BgsOpt { unrolled_steps, ..BgsOpt::default() }
    }

    /// `rhg`: `itd` with a cold start from `y_0` at every outer iteration.
    pub fn rhg(unrolled_steps: usize) -> Self {
        BgsOpt { warm: false, ..BgsOpt::itd(unrolled_steps) }
    }

    /// `truncated-itd`: `M` undifferentiated warm-up steps, then `T` unrolled ones.
    pub fn truncated_itd(unrolled_steps: usize, warm_steps: usize) -> Self {
        BgsOpt { warm_steps, ..BgsOpt::itd(unrolled_steps) }
    }

    /// `corrected-itd`: `itd` with the implicit-gradient correction computed by `solver`.
    pub fn corrected_itd(unrolled_steps: usize, solver: XiSolver) -> Self {
        BgsOpt { correction: Some(solver), ..BgsOpt::itd(unrolled_steps) }
    }

    /// `aid`: `M` plain lower steps, no unrolling, and the correction: `d_k = ∇x F − B H† ∇y F`.
    pub fn aid(warm_steps: usize, solver: XiSolver) -> Self {
        BgsOpt { unrolled_steps: 0, warm_steps, correction: Some(solver), ..BgsOpt::default() }
    }

    /// The name of the variant: `itd`, `rhg`, `truncated-itd`, `corrected-itd` or `aid`.
    pub fn variant(&self) -> &'static str {
        match (self.correction.is_some(), self.unrolled_steps, self.warm, self.warm_steps) {
            (true, 0, _, _) => "aid",
            (true, _, _, _) => "corrected-itd",
            (false, _, false, _) => "rhg",
            (false, _, true, 0) => "itd",
            (false, _, true, _) => "truncated-itd",
        }
    }

    /// The iterations, stopping rule and lower step of a run.
    pub(crate) fn schedule(&self, lower: LowerStep) -> Schedule {
        Schedule { iters: self.outer_iters, stop: self.stop, lower, metrics: self.metrics }
    }

    pub(crate) fn check(&self) -> Result<(), SolveError> {
        if self.unrolled_steps + self.warm_steps == 0 {
            return Err(SolveError::Options("BGS-Opt needs T + M > 0 lower steps (both are 0)".into()));
        }
        if let Some(c) = &self.correction {
            c.check().map_err(SolveError::Options)?;
        }
        self.upper_optimizer.check().map_err(SolveError::Options)?;
        check_steps(&[("lower_step", self.alpha()), ("upper_step", self.upper_step)])
    }
}

impl BgsOpt {
    /// The lower step (NaN when not chosen yet, which the checks reject).
    pub(crate) fn alpha(&self) -> f64 {
        self.lower_step.unwrap_or(f64::NAN)
    }
}

impl Iterate for BgsOpt {
    const LOWER_STEP: &'static str = "α";

    fn name(&self) -> String {
        self.variant().into()
    }

    fn settings(&self) -> String {
        let mut s = format!(
            "T={} M={} α={} γ={} K={} {}",
            self.unrolled_steps,
            self.warm_steps,
            step_text(self.lower_step),
            self.upper_step,
            self.outer_iters,
            if self.warm { "warm" } else { "cold" }
        );
        if let Some(c) = &self.correction {
            s.push(' ');
            s.push_str(&c.describe());
        }
        with_optimizer(s, &self.upper_optimizer)
    }

    fn lower_step(&self) -> Option<f64> {
        self.lower_step
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Self { lower_step: Some(value), ..self.clone() }
    }

    /// The run from `(x0, y0)` with a lower step given. The unrolled steps give `J_x ∇y F` and `J_y ∇y F` in
    /// reverse (the `T` iterates kept, one product `(B_t a, H_t a)` per step, no `n × m` Jacobian formed) or, on a
    /// small problem with blocks, by the forward recursion of the rule above. The correction's solvers apply `H` at `(x_{k-1}, y_k)`, from its blocks
    /// where the problem has them; `pinv` and `adaptive-pinv` decompose `H` (built from `m` products on a problem
    /// without blocks). Buffers are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let (n, _) = problem.dims();
        let mut w = Work::new(problem, (self.unrolled_steps, self.alpha()), self.correction.as_ref());
        let y_start = Buf::<P::Y>::from_slice(y0);
        let (mut upper, mut step) = (UpperState::new(n), Buf::<P::X>::zeros(n));
        let bounds = problem.bounds();
        run(problem, (x0, y0), self.schedule(lower), Vec::new(), observer, |_, x, y, kept| {
            if !self.warm {
                y.copy_from_slice(&y_start);
            }
            descend(problem, x, y, self.warm_steps, self.alpha(), &mut w.s);
            w.unrolled.steps(problem, x, y);
            // d = ∇x F + J_x ∇y F and a = J_y ∇y F.
            problem.upper_grad(x, y, &mut w.d, &mut w.a);
            w.unrolled.pull_back(problem, x, (&mut w.d, &mut w.a));
            let mut extras = Vec::new();
            if let Some(solver) = &self.correction {
                extras = correct(problem, solver, (x, y), &mut w, kept);
            }
            upper.direction(&self.upper_optimizer, &w.d, &mut step);
            let moved = upper_step(bounds.as_ref(), x, &step, self.upper_step, &mut w.old);
            Step { dir_norm: norm(&w.d), moved, extras }
        })
    }
}

/// Every buffer one run needs, allocated once.
struct Work<P: MatrixFreeProblem> {
    s: Scratch<P>,
    /// The direction `d` (length n) and the adjoint `a` (length m) of the reverse sweep.
    d: Buf<P::X>,
    a: Buf<P::Y>,
    /// The unrolled steps, and `G`'s curvature at the last iterate (for the correction).
    unrolled: Unrolled<P>,
    at_end: Curvature,
    /// The previous `x` (for the projected step's norm).
    old: Buf<P::X>,
    /// `ξ`, and what the solver keeps.
    xi: Buf<P::Y>,
    xi_state: Option<XiState<P>>,
}

impl<P: MatrixFreeProblem> Work<P> {
    fn new(problem: &P, (steps, alpha): (usize, f64), correction: Option<&XiSolver>) -> Self {
        let (n, m) = problem.dims();
        Work {
            s: Scratch::new(n, m),
            d: Buf::zeros(n),
            a: Buf::zeros(m),
            unrolled: Unrolled::new(problem, vec![(0.0, alpha); steps], correction.is_some()),
            at_end: Curvature::point(problem, Objective::Lower),
            old: Buf::zeros(n),
            xi: Buf::zeros(m),
            xi_state: correction.map(|solver| XiState::new(solver, (n, m))),
        }
    }
}

/// `ξ ≈ −H† v` at `(x, y)` for `v = w.a`, then `d += B ξ`; returns the solver's metrics when `kept` (none
/// otherwise, which allocates nothing).
fn correct<P: MatrixFreeProblem>(
    problem: &P,
    solver: &XiSolver,
    (x, y): (&[f64], &[f64]),
    w: &mut Work<P>,
    kept: bool,
) -> Vec<Extra> {
    let Work { s: Scratch { gx, gy, hx, hy }, a: v, d, xi, xi_state, at_end, .. } = w;
    let xi_state = xi_state.as_mut().expect("made for the correction");
    let lower_grad_norm = match solver {
        XiSolver::AdaptivePinv { .. } => {
            at_end.keep(problem, 0, (x, y), (gx, gy));
            norm(gy)
        }
        _ => {
            at_end.place(problem, 0, (x, y), (gx, gy));
            f64::NAN
        }
    };
    let metrics = xi_state.solve(solver, (problem, &*at_end, x), (v, lower_grad_norm), xi, (hx, hy));
    at_end.apply(problem, 0, x, xi, (hx, hy));
    axpy(d, 1.0, hx);
    if kept {
        metrics.named()
    } else {
        Vec::new()
    }
}
