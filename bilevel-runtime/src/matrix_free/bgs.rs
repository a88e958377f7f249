//! BGS-Opt on products: the unrolled steps differentiated in reverse over the stored trajectory, and the
//! correction solved with Krylov methods.

use nalgebra::Dyn;

use super::curvature::{Curvature, Objective};
use super::unroll::{descend, reverse, unroll, Scratch};
use super::vector::{axpy, norm, Buf};
use super::MatrixFreeProblem;
use crate::bgs::BgsOpt;
use crate::driver::{run, upper_step, Step};
use crate::error::SolveResult;
use crate::trace::Extra;
use crate::upper::UpperState;
use crate::xi::{XiSolver, XiState};

/// Every buffer one run needs, allocated once.
struct Work<P: MatrixFreeProblem> {
    s: Scratch<P>,
    /// The direction `d` (length n) and the adjoint `a` (length m) of the reverse sweep.
    d: Buf<P::X>,
    a: Buf<P::Y>,
    /// `G`'s curvature at `y_0 … y_{T−1}` of the unrolled steps, and at the last iterate (for the correction).
    lower: Curvature,
    at_end: Curvature,
    /// The previous `x` (for the projected step's norm).
    old: Buf<P::X>,
    /// `ξ`, and what the solver keeps.
    xi: Buf<P::Y>,
    xi_state: Option<XiState>,
}

impl<P: MatrixFreeProblem> Work<P> {
    fn new(problem: &P, steps: usize, correction: Option<&XiSolver>) -> Self {
        let (n, m) = problem.dims();
        Work {
            s: Scratch::new(n, m),
            d: Buf::zeros(n),
            a: Buf::zeros(m),
            lower: Curvature::trajectory(problem, Objective::Lower, steps),
            at_end: Curvature::point(problem, Objective::Lower),
            old: Buf::zeros(n),
            xi: Buf::zeros(m),
            xi_state: correction.map(|solver| XiState::new(solver, (n, m))),
        }
    }
}

impl BgsOpt {
    /// Runs on a problem given by its products ([`MatrixFreeProblem`]: a problem with data, or any [`Problem`]
    /// through [`Dense`]), from `(x0, y0)`. Same update rule as [`Algorithm::solve`], with the unrolled steps
    /// differentiated in reverse: the `T` iterates are stored (T·m numbers) and `J_x ∇y F`, `J_y ∇y F` are
    /// accumulated backwards, one product `(B_t a, H_t a)` per step, so no `n × m` Jacobian is ever formed.
    /// The correction uses the same solvers: `pinv` and `adaptive-pinv` build `H` from `m` products (for small
    /// `m`), the others only apply it. Buffers are allocated once per run. The BGS residual of the records is
    /// computed at the start and at the final iterate (NaN in between): see
    /// [`bgs_residual`](crate::matrix_free::bgs_residual).
    ///
    /// [`Problem`]: crate::Problem
    /// [`Dense`]: crate::Dense
    /// [`Algorithm::solve`]: crate::Algorithm::solve
    pub(crate) fn matrix_free<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        y0: &[f64],
    ) -> SolveResult<Dyn, Dyn> {
        self.check()?;
        let (n, _) = problem.dims();
        let mut w = Work::new(problem, self.unrolled_steps, self.correction.as_ref());
        let y_start = Buf::<P::Y>::from_slice(y0);
        let (mut upper, mut step) = (UpperState::new(n), Buf::<P::X>::zeros(n));
        let bounds = problem.bounds();
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, kept| {
            if !self.warm {
                y.copy_from_slice(&y_start);
            }
            let (alpha, steps) = (self.alpha(), self.unrolled_steps);
            descend(problem, x, y, self.warm_steps, alpha, &mut w.s);
            unroll(problem, x, y, (steps, alpha), &mut w.lower, &mut w.s);
            // d = ∇x F + J_x ∇y F and a = J_y ∇y F, backwards over the trajectory.
            problem.upper_grad(x, y, &mut w.d, &mut w.a);
            reverse(problem, x, (steps, alpha), &w.lower, (&mut w.d, &mut w.a), &mut w.s);
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
    let metrics = xi_state.solve(solver, (problem, &*at_end, x, y), (v, lower_grad_norm), xi, (hx, hy));
    at_end.apply(problem, 0, x, xi, (hx, hy));
    axpy(d, 1.0, hx);
    if kept {
        metrics.named()
    } else {
        Vec::new()
    }
}
