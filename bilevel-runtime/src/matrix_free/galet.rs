//! GALET on products.

use nalgebra::Dyn;

use super::curvature::{Curvature, Objective};
use super::unroll::{descend, Scratch};
use super::vector::{axpy, dot, norm, Buf};
use super::MatrixFreeProblem;
use crate::driver::{run, upper_step, Step};
use crate::error::SolveResult;
use crate::galet::Galet;
use crate::upper::UpperState;

impl Galet {
    /// Runs on a problem given by its products, from `(x0, y0)`. Same update rule and metrics as
    /// [`Algorithm::solve`]; each step on `w` costs two products (`H w`, then `H (∇y F + H w)`), and `B w` comes
    /// with `H w` from one product. Buffers are allocated once per run.
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
        let (xs, ys) = (Buf::<P::X>::zeros, Buf::<P::Y>::zeros);
        let mut s = Scratch::<P>::new(n, m);
        let (mut fx, mut fy, mut w, mut r, mut hr) = (xs(n), ys(m), ys(m), ys(m), ys(m));
        let (mut bw, mut old, mut y_star) = (xs(n), xs(n), ys(m));
        let mut at = Curvature::point(problem, Objective::Lower);
        let (mut upper, mut step) = (UpperState::new(n), xs(n));
        let bounds = problem.bounds();
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, kept| {
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
        })
    }
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
