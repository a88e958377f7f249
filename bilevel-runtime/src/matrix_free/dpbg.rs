//! DPBG on products: the lower steps from `z` differentiated in reverse.

use nalgebra::Dyn;

use super::curvature::{Curvature, Objective};
use super::unroll::{descend, reverse, unroll, Scratch};
use super::vector::{axpy, dot, Buf};
use super::MatrixFreeProblem;
use crate::dpbg::Dpbg;
use crate::driver::{project, run, upper_step, Step};
use crate::error::SolveResult;

impl Dpbg {
    /// Runs on a problem given by its products, from `x0` and the initialization `z0`. Same update rule and
    /// trace as [`Algorithm::solve`] (the extras `z[i]` hold `z`), with `J_x ∇y F` and `J_z ∇y F` accumulated
    /// backwards over the `k` stored lower iterates. Buffers are allocated once per run.
    ///
    /// [`Algorithm::solve`]: crate::Algorithm::solve
    pub(crate) fn matrix_free<P: MatrixFreeProblem>(
        &self,
        problem: &P,
        x0: &[f64],
        z0: &[f64],
    ) -> SolveResult<Dyn, Dyn> {
        self.check()?;
        let (n, m) = problem.dims();
        let (k, alpha) = (self.lower_iters, self.alpha());
        let mut s = Scratch::new(n, m);
        let (mut dx, mut dz, mut old) = (Buf::<P::X>::zeros(n), Buf::<P::Y>::zeros(m), Buf::<P::X>::zeros(n));
        let mut lower_at = Curvature::trajectory(problem, Objective::Lower, k);
        let mut x_start = x0.to_vec();
        let bounds = problem.bounds();
        project(bounds.as_ref(), &mut x_start);
        let mut y_start = z0.to_vec();
        if x0.len() == n && z0.len() == m {
            descend(problem, &x_start, &mut y_start, k, alpha, &mut s);
        }
        let mut z = Buf::<P::Y>::from_slice(z0);
        let z_extras = |z: &[f64]| z.iter().enumerate().map(|(i, v)| (format!("z[{i}]").into(), *v)).collect();
        let first = z_extras(&z);
        run(problem, (&x_start, &y_start), self.schedule(), first, |_, x, y, kept| {
            y.copy_from_slice(&z);
            unroll(problem, x, y, (k, alpha), &mut lower_at, &mut s);
            problem.upper_grad(x, y, &mut dx, &mut dz);
            reverse(problem, x, (k, alpha), &lower_at, (&mut dx, &mut dz), &mut s);
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
