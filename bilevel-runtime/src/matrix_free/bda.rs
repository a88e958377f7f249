//! BDA on products: the inner steps differentiated in reverse over the stored inner trajectory.

use nalgebra::Dyn;

use super::curvature::{Curvature, Objective};
use super::vector::{axpy, norm, Buf};
use super::MatrixFreeProblem;
use crate::bda::Bda;
use crate::driver::{run, upper_step, Step};
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
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let (mut fx, mut fy, mut gx, mut gy) = (xs(n), ys(m), xs(n), ys(m));
        let (mut fhx, mut fhy, mut ghx, mut ghy) = (xs(n), ys(m), xs(n), ys(m));
        let (mut d, mut a, mut old) = (xs(n), ys(m), xs(n));
        // F's and G's curvature at the inner iterates y_0 … y_{K−1}.
        let mut upper_at = Curvature::trajectory(problem, Objective::Upper, k_max);
        let mut lower_at = Curvature::trajectory(problem, Objective::Lower, k_max);
        let (su, sl) = (self.upper_inner_step, self.alpha());
        // The weights of ∇F and ∇G in inner step k (1-based): α_k s_u and (1 − α_k) s_l with α_k = μ / k, the same
        // at every outer iteration.
        let weights: Vec<(f64, f64)> = (1..=k_max)
            .map(|k| {
                let a = self.mu / k as f64;
                (a * su, (1.0 - a) * sl)
            })
            .collect();
        let (mut upper, mut step) = (UpperState::new(n), xs(n));
        let bounds = problem.bounds();
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, _| {
            y.copy_from_slice(y0);
            for k in 1..=k_max {
                upper_at.keep(problem, k - 1, (x, y), (&mut fx, &mut fy));
                lower_at.keep(problem, k - 1, (x, y), (&mut gx, &mut gy));
                let (wf, wg) = weights[k - 1];
                axpy(y, -wf, &fy);
                axpy(y, -wg, &gy);
            }
            problem.upper_grad(x, y, &mut d, &mut a);
            for k in (1..=k_max).rev() {
                upper_at.apply(problem, k - 1, x, &a, (&mut fhx, &mut fhy));
                lower_at.apply(problem, k - 1, x, &a, (&mut ghx, &mut ghy));
                let (wf, wg) = weights[k - 1];
                axpy(&mut d, -wf, &fhx);
                axpy(&mut d, -wg, &ghx);
                axpy(&mut a, -wf, &fhy);
                axpy(&mut a, -wg, &ghy);
            }
            upper.direction(&self.upper_optimizer, &d, &mut step);
            let moved = upper_step(bounds.as_ref(), x, &step, self.upper_step, &mut old);
            Step { dir_norm: norm(&d), moved, extras: Vec::new() }
        })
    }
}
