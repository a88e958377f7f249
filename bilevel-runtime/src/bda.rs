//! BDA, Bilevel Descent Aggregation (Liu et al., ICML 2020, eq. 10).

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::driver::{check_steps, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::unroll::Unrolled;
use crate::matrix_free::vector::{norm, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};
use crate::upper::{step_text, with_optimizer, UpperOptimizer, UpperState};

/// BDA: the inner steps descend an aggregation of the upper and lower objectives, so that among the lower-level
/// solutions the one that is best for the upper level is selected.
///
/// With the schedule `α_k = μ / k` (k = 1..K) and a cold inner start `y_0` at every outer iteration:
/// ```text
/// for ℓ = 1..L:
///     y ← y_0;  J ← 0
///     for k = 1..K:
///         J ← J (I − α_k s_u ∇²yy F − (1−α_k) s_l ∇²yy G) − (α_k s_u ∇²xy F + (1−α_k) s_l ∇²xy G)
///         y ← y − (α_k s_u ∇y F(x, y) + (1−α_k) s_l ∇y G(x, y))          # both at the old y
///     d = ∇x F(x, y) + J ∇y F(x, y);   x ← Π_X(x − γ d)
/// ```
/// On a lower level with many solutions BDA approaches the **optimistic** solution as `K` grows (on the BDA
/// paper's Example 1, `x → 1`: 1.137 for K = 8, 1.083 for K = 16, 1.029 for K = 64), unlike ITD and the
/// corrected methods, which reach other equilibria. It needs the Hessian blocks of both objectives.
///
/// ```
/// use bilevel_runtime::{Algorithm, Bda};
/// let bda = Bda { inner_iters: 16, ..Bda::default() };
/// assert_eq!(bda.name(), "bda");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Bda {
    /// Outer iterations `L`.
    pub outer_iters: usize,
    /// Inner iterations `K`.
    pub inner_iters: usize,
    /// Step `s_u` on the upper objective in the aggregation.
    pub upper_inner_step: f64,
    /// Step `s_l` on the lower objective in the aggregation (`None`: `1/L_G` estimated at the start, the default).
    pub lower_inner_step: Option<f64>,
    /// The schedule constant `μ` of `α_k = μ / k`.
    pub mu: f64,
    /// Upper step `γ`.
    pub upper_step: f64,
    /// How the hypergradient becomes the upper step (plain gradient by default; momentum or Adam).
    pub upper_optimizer: UpperOptimizer,
    /// When to stop besides the iteration count.
    pub stop: Stop,
    /// Which iterates the trace keeps (by default the start and the last, [`Metrics::End`]).
    pub metrics: Metrics,
}

impl Default for Bda {
    /// The settings of the P1 rows, `s_u = 0.7`, `μ = 0.5`, `γ = 0.5`, `L = 2000`, `K = 16`, with the lower
    /// step `s_l = 1/L_G` at the start (`None`; the P1 rows give `s_l = 0.2`).
    fn default() -> Self {
        Bda {
            outer_iters: 2000,
            inner_iters: 16,
            upper_inner_step: 0.7,
            lower_inner_step: None,
            mu: 0.5,
            upper_step: 0.5,
            upper_optimizer: UpperOptimizer::Gradient,
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl Bda {
    /// The iterations, stopping rule and lower step of a run.
    pub(crate) fn schedule(&self, lower: LowerStep) -> Schedule {
        Schedule { iters: self.outer_iters, stop: self.stop, lower, metrics: self.metrics }
    }

    /// Checks the steps.
    pub(crate) fn check(&self) -> Result<(), SolveError> {
        self.upper_optimizer.check().map_err(SolveError::Options)?;
        check_steps(&[
            ("upper_inner_step", self.upper_inner_step),
            ("lower_inner_step", self.alpha()),
            ("mu", self.mu),
            ("upper_step", self.upper_step),
        ])
    }
}

impl Bda {
    /// The lower step (NaN when not chosen yet, which the checks reject).
    pub(crate) fn alpha(&self) -> f64 {
        self.lower_inner_step.unwrap_or(f64::NAN)
    }
}

impl Iterate for Bda {
    const LOWER_STEP: &'static str = "s_l";

    fn name(&self) -> String {
        "bda".into()
    }

    fn settings(&self) -> String {
        let s = format!(
            "K={} s_u={} s_l={} μ={} γ={} L={}",
            self.inner_iters,
            self.upper_inner_step,
            step_text(self.lower_inner_step),
            self.mu,
            self.upper_step,
            self.outer_iters
        );
        with_optimizer(s, &self.upper_optimizer)
    }

    fn lower_step(&self) -> Option<f64> {
        self.lower_inner_step
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Self { lower_inner_step: Some(value), ..self.clone() }
    }

    /// The run from `x0` with a lower step given; `y0` is the inner start of every outer iteration.
    /// `d = ∇x F + J ∇y F` comes from the unrolled inner steps: accumulated backwards over the `K` kept inner
    /// iterates (K·m numbers, two products per inner step, no `n × m` matrix), or by the forward recursion above
    /// on a small problem with blocks. Buffers are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, y0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let (n, m) = problem.dims();
        let (su, sl) = (self.upper_inner_step, self.alpha());
        // The weights of ∇F and ∇G in inner step k (1-based): α_k s_u and (1 − α_k) s_l with α_k = μ / k, the same
        // at every outer iteration.
        let weights: Vec<(f64, f64)> = (1..=self.inner_iters)
            .map(|k| {
                let a = self.mu / k as f64;
                (a * su, (1.0 - a) * sl)
            })
            .collect();
        let mut inner = Unrolled::new(problem, weights, false);
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let (mut d, mut a, mut old) = (xs(n), ys(m), xs(n));
        let (mut upper, mut step) = (UpperState::new(n), xs(n));
        let bounds = problem.bounds();
        run(problem, (x0, y0), self.schedule(lower), Vec::new(), observer, |_, x, y, _| {
            y.copy_from_slice(y0);
            inner.steps(problem, x, y);
            problem.upper_grad(x, y, &mut d, &mut a);
            inner.pull_back(problem, x, (&mut d, &mut a));
            upper.direction(&self.upper_optimizer, &d, &mut step);
            let moved = upper_step(bounds.as_ref(), x, &step, self.upper_step, &mut old);
            Step { dir_norm: norm(&d), moved, extras: Vec::new() }
        })
    }
}
