//! BGS-Opt on products: the unrolled steps differentiated in reverse over the stored trajectory, and the
//! correction solved with Krylov methods.

use crate::trace::Extra;
use nalgebra::{DMatrix, DVector, Dyn};

use super::driver::{run, upper_step, Step};
use super::krylov::Krylov;
use super::unroll::{descend, reverse, unroll, Scratch};
use super::vector::{axpy, norm, scale};
use super::MatrixFreeProblem;
use crate::bgs::BgsOpt;
use crate::error::SolveResult;
use crate::linalg::pinv_apply;
use crate::upper::UpperState;
use crate::xi::{XiMetrics, XiSolver, CG_TOL};

/// Every buffer one run needs, allocated once.
struct Work {
    s: Scratch,
    /// The direction `d` (length n) and the adjoint `a` (length m) of the reverse sweep.
    d: Vec<f64>,
    a: Vec<f64>,
    /// `y_0 … y_{T−1}` of the unrolled steps, row by row (T·m).
    trajectory: Vec<f64>,
    /// The previous `x` (for the projected step's norm).
    old: Vec<f64>,
    /// `ξ`, and what a warm-started solver keeps (`z` of z-cg, `ξ` of gd and cg).
    xi: Vec<f64>,
    warm: Vec<f64>,
    krylov: Krylov,
}

impl Work {
    fn new(n: usize, m: usize, steps: usize) -> Work {
        let v = |k: usize| vec![0.0; k];
        Work {
            s: Scratch::new(n, m),
            d: v(n),
            a: v(m),
            trajectory: v(steps * m),
            old: v(n),
            xi: v(m),
            warm: v(m),
            krylov: Krylov::new(m),
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
        let (n, m) = problem.dims();
        let mut w = Work::new(n, m, self.unrolled_steps);
        let y_start = y0.to_vec();
        let (mut upper, mut step) = (UpperState::new(n), vec![0.0; n]);
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, kept| {
            if !self.warm {
                y.copy_from_slice(&y_start);
            }
            let (alpha, steps) = (self.alpha(), self.unrolled_steps);
            descend(problem, x, y, self.warm_steps, alpha, &mut w.s);
            unroll(problem, x, y, (steps, alpha), &mut w.trajectory, &mut w.s);
            // d = ∇x F + J_x ∇y F and a = J_y ∇y F, backwards over the trajectory.
            problem.upper_grad(x, y, &mut w.d, &mut w.a);
            reverse(problem, x, (steps, alpha), &w.trajectory, &mut w.d, &mut w.a, &mut w.s);
            let mut extras = Vec::new();
            if let Some(solver) = &self.correction {
                extras = correct(problem, solver, x, y, &mut w, kept);
            }
            upper.direction(&self.upper_optimizer, &w.d, &mut step);
            let moved = upper_step(problem, x, &step, self.upper_step, &mut w.old);
            Step { dir_norm: norm(&w.d), moved, extras }
        })
    }
}

/// `ξ ≈ −H† v` at `(x, y)` for `v = w.a`, then `d += B ξ`; returns the solver's metrics when `kept` (none
/// otherwise, which allocates nothing).
fn correct<P: MatrixFreeProblem>(
    problem: &P,
    solver: &XiSolver,
    x: &[f64],
    y: &[f64],
    w: &mut Work,
    kept: bool,
) -> Vec<Extra> {
    let Work { s: Scratch { gx, gy, hx, hy }, a: v, xi, warm, krylov, .. } = w;
    let mut h = |u: &[f64], out: &mut [f64]| problem.lower_hvp_y(x, y, u, hx, out);
    let metrics = match *solver {
        XiSolver::Pinv { rtol } => {
            pinv(&mut h, v, xi, rtol, 0.0);
            XiMetrics::default()
        }
        XiSolver::AdaptivePinv { rtol, kappa } => {
            problem.lower_grad(x, y, gx, gy);
            let floor = kappa * norm(gy);
            let mut h = |u: &[f64], out: &mut [f64]| problem.lower_hvp_y(x, y, u, hx, out);
            pinv(&mut h, v, xi, rtol, floor);
            XiMetrics::default()
        }
        XiSolver::ZCg { iters } => {
            let out = krylov.cgls_square(&mut h, v, warm, iters);
            h(warm, xi);
            XiMetrics::of(&[("cg_breakdown", f64::from(u8::from(out.breakdown)))])
        }
        XiSolver::Gd { step } => {
            h(warm, xi);
            axpy(xi, 1.0, v);
            axpy(warm, -step, xi);
            xi.copy_from_slice(warm);
            XiMetrics::of(&[("xi_norm", norm(xi))])
        }
        XiSolver::Cg { iters } => {
            scale(v, -1.0);
            let out = krylov.cg(&mut h, v, warm, iters, CG_TOL);
            scale(v, -1.0);
            xi.copy_from_slice(warm);
            XiMetrics::cg(out, norm(xi))
        }
        XiSolver::Lsqr { iters } => {
            let out = krylov.lsqr(&mut h, v, xi, iters, 1e-12);
            scale(xi, -1.0);
            XiMetrics::of(&[("lsqr_iterations", out.iterations as f64)])
        }
    };
    problem.lower_hvp_y(x, y, xi, hx, hy);
    axpy(&mut w.d, 1.0, &w.s.hx);
    if kept {
        metrics.named()
    } else {
        Vec::new()
    }
}

/// `ξ = −H† v` with `H` built column by column from `m` products, then the exact pseudo-inverse.
fn pinv(h: &mut dyn FnMut(&[f64], &mut [f64]), v: &[f64], xi: &mut [f64], rtol: f64, floor: f64) {
    let m = v.len();
    let mut dense = DMatrix::zeros(m, m);
    let mut unit = vec![0.0; m];
    let mut column = vec![0.0; m];
    for j in 0..m {
        unit[j] = 1.0;
        h(&unit, &mut column);
        dense.column_mut(j).copy_from_slice(&column);
        unit[j] = 0.0;
    }
    let solution = pinv_apply(&dense, &DVector::from_column_slice(v), rtol, floor);
    xi.iter_mut().zip(solution.iter()).for_each(|(p, q)| *p = -q);
}
