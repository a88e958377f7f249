//! DPBG, differentiable programming bilevel gradient (Bolte, Lê, Pauwels & Vaiter 2025, Algorithm DPBG).

use std::ops::ControlFlow;

use crate::algorithm::Iterate;
use crate::driver::{check_steps, project, run, upper_step, Metrics, Schedule, Step, Stop};
use crate::error::{SolveError, SolveResult};
use crate::matrix_free::unroll::{descend, Scratch, Unrolled};
use crate::matrix_free::vector::{axpy, dot, Buf};
use crate::matrix_free::{LowerStep, MatrixFreeProblem};
use crate::upper::step_text;

/// DPBG: joint gradient descent on `x` and on the initialization `z` of `k` lower gradient steps.
///
/// Each iteration computes `y = φ_k(x, z)` with `J_x, J_z` and updates jointly
/// ```text
/// z ← z − α_f J_z ∇y F(x, y)
/// x ← Π_X(x − α_f (∇x F(x, y) + J_x ∇y F(x, y)))
/// ```
/// Trace entry ℓ holds the new `x_ℓ` and `y_ℓ = φ_k(x_ℓ, z_ℓ)`; `z_ℓ` is recorded as the extras `z[0]`, `z[1]`, ….
///
/// DPBG minimizes `F(x, φ_k(x, z))` over `(x, z)`, which need **not** give a lower-level solution: on the Huber
/// example of Bolte et al. (Sec. 5.4, Prop. 5.2) with `F = (y − 0.1)²` it reaches `y = 0.1`, the unconstrained
/// minimizer of `F`, by moving `z` to a point that `k` steps map there (`z → 0.042561` for k = 9), and with
/// `F = (y − 2)²` it escapes (`z → 5.16235`, growing with `k`). The lower step must satisfy `α L_G < 1`.
///
/// ```
/// use bilevel_runtime::{Algorithm, Dpbg};
/// assert_eq!(Dpbg::default().name(), "dpbg");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dpbg {
    /// Iterations `L`.
    pub iters: usize,
    /// Lower gradient steps `k`.
    pub lower_iters: usize,
    /// Lower step `α` (`None`: `1/L_G` estimated at the start, the default).
    pub lower_step: Option<f64>,
    /// The joint step `α_f` on `x` and `z`.
    pub step: f64,
    /// When to stop besides the iteration count.
    pub stop: Stop,
    /// Which iterates the trace keeps (by default the start and the last, [`Metrics::End`]).
    pub metrics: Metrics,
}

impl Default for Dpbg {
    /// The settings of the P4 rows, `k = 9`, `α_f = 0.01`, `L = 5000`, with the lower step `α = 1/L_G` at the
    /// start (`None`; the P4 rows give `α = 0.05`).
    fn default() -> Self {
        Dpbg {
            iters: 5000,
            lower_iters: 9,
            lower_step: None,
            step: 0.01,
            stop: Stop::default(),
            metrics: Metrics::default(),
        }
    }
}

impl Dpbg {
    /// The iterations, stopping rule and lower step of a run.
    pub(crate) fn schedule(&self, lower: LowerStep) -> Schedule {
        Schedule { iters: self.iters, stop: self.stop, lower, metrics: self.metrics }
    }

    /// Checks the steps.
    pub(crate) fn check(&self) -> Result<(), SolveError> {
        check_steps(&[("lower_step", self.alpha()), ("step", self.step)])
    }
}

impl Dpbg {
    /// The lower step (NaN when not chosen yet, which the checks reject).
    pub(crate) fn alpha(&self) -> f64 {
        self.lower_step.unwrap_or(f64::NAN)
    }
}

impl Iterate for Dpbg {
    const LOWER_STEP: &'static str = "α";

    fn name(&self) -> String {
        "dpbg".into()
    }

    fn settings(&self) -> String {
        format!("k={} α={} α_f={} L={}", self.lower_iters, step_text(self.lower_step), self.step, self.iters)
    }

    fn lower_step(&self) -> Option<f64> {
        self.lower_step
    }

    fn with_lower_step(&self, value: f64) -> Self {
        Self { lower_step: Some(value), ..self.clone() }
    }

    /// The run from `x0` and the initialization `z0` with a lower step given (the extras `z[i]` hold `z`):
    /// `J_x ∇y F` and `J_z ∇y F` come from the unrolled steps (in reverse over the `k` kept lower iterates, or by
    /// the forward recursion on a small problem with blocks). Buffers are allocated once per run.
    fn iterate<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        (x0, z0): (&[f64], &[f64]),
        lower: LowerStep,
        observer: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> SolveResult {
        self.check()?;
        let (n, m) = problem.dims();
        let (k, alpha) = (self.lower_iters, self.alpha());
        let mut s = Scratch::new(n, m);
        let (mut dx, mut dz, mut old) = (Buf::<P::X>::zeros(n), Buf::<P::Y>::zeros(m), Buf::<P::X>::zeros(n));
        let mut unrolled = Unrolled::new(problem, vec![(0.0, alpha); k], true);
        let mut x_start = x0.to_vec();
        let bounds = problem.bounds();
        project(bounds.as_ref(), &mut x_start);
        let mut y_start = z0.to_vec();
        descend(problem, &x_start, &mut y_start, k, alpha, &mut s);
        let mut z = Buf::<P::Y>::from_slice(z0);
        let z_extras = |z: &[f64]| z.iter().enumerate().map(|(i, v)| (format!("z[{i}]").into(), *v)).collect();
        let first = z_extras(&z);
        run(problem, (&x_start, &y_start), self.schedule(lower), first, observer, |_, x, y, kept| {
            y.copy_from_slice(&z);
            unrolled.steps(problem, x, y);
            problem.upper_grad(x, y, &mut dx, &mut dz);
            unrolled.pull_back(problem, x, (&mut dx, &mut dz));
            axpy(&mut z, -self.step, &dz);
            let moved_x = upper_step(bounds.as_ref(), x, &dx, self.step, &mut old);
            y.copy_from_slice(&z);
            descend(problem, x, y, k, alpha, &mut s);
            let dir_norm = (dot(&dx, &dx) + dot(&dz, &dz)).sqrt();
            let moved = (moved_x.powi(2) + dot(&dz, &dz)).sqrt();
            let extras = if kept { z_extras(&z) } else { Vec::new() };
            Step { dir_norm, moved, extras }
        })
    }
}
