//! BDA on products: the inner steps differentiated in reverse over the stored inner trajectory.

use nalgebra::Dyn;

use super::driver::{run, upper_step, Step};
use super::vector::{axpy, norm};
use super::MatrixFreeProblem;
use crate::bda::Bda;
use crate::error::SolveResult;
use crate::upper::UpperState;

impl Bda {
    /// Runs on a problem given by its products, from `x0`; `y0` is the inner start of every outer iteration.
    /// Same update rule as [`Algorithm::solve`], with `d = ∇x F + J ∇y F` accumulated backwards over the `K`
    /// stored inner iterates (K·m numbers): two products per inner step (`∇²F` and `∇²G` along the adjoint),
    /// no `n × m` matrix. Buffers are allocated once per run; the BGS residual is computed at the start and at
    /// the final iterate.
    ///
    /// [`Algorithm::solve`]: crate::Algorithm::solve
    pub(crate) fn matrix_free<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        y0: &[f64],
    ) -> SolveResult<Dyn, Dyn> {
        self.check()?;
        let (n, m) = problem.dims();
        let k_max = self.inner_iters;
        let v = |k: usize| vec![0.0; k];
        let (mut fx, mut fy, mut gx, mut gy) = (v(n), v(m), v(n), v(m));
        let (mut fhx, mut fhy, mut ghx, mut ghy) = (v(n), v(m), v(n), v(m));
        let (mut d, mut a, mut old, mut trajectory) = (v(n), v(m), v(n), v(k_max * m));
        let (su, sl) = (self.upper_inner_step, self.alpha());
        // The weights of ∇F and ∇G in inner step k (1-based): α_k s_u and (1 − α_k) s_l with α_k = μ / k.
        let weights = |k: usize| {
            let a = self.mu / k as f64;
            (a * su, (1.0 - a) * sl)
        };
        let (mut upper, mut step) = (UpperState::new(n), vec![0.0; n]);
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, _| {
            y.copy_from_slice(y0);
            for k in 1..=k_max {
                trajectory[(k - 1) * m..k * m].copy_from_slice(y);
                problem.upper_grad(x, y, &mut fx, &mut fy);
                problem.lower_grad(x, y, &mut gx, &mut gy);
                let (wf, wg) = weights(k);
                axpy(y, -wf, &fy);
                axpy(y, -wg, &gy);
            }
            problem.upper_grad(x, y, &mut d, &mut a);
            for k in (1..=k_max).rev() {
                let at = &trajectory[(k - 1) * m..k * m];
                problem.upper_hvp_y(x, at, &a, &mut fhx, &mut fhy);
                problem.lower_hvp_y(x, at, &a, &mut ghx, &mut ghy);
                let (wf, wg) = weights(k);
                axpy(&mut d, -wf, &fhx);
                axpy(&mut d, -wg, &ghx);
                axpy(&mut a, -wf, &fhy);
                axpy(&mut a, -wg, &ghy);
            }
            upper.direction(&self.upper_optimizer, &d, &mut step);
            let moved = upper_step(problem, x, &step, self.upper_step, &mut old);
            Step { dir_norm: norm(&d), moved, extras: Vec::new() }
        })
    }
}
