//! GALET on products.

use nalgebra::Dyn;

use super::driver::{run, upper_step, Step};
use super::unroll::{descend, Scratch};
use super::vector::{axpy, dot, norm};
use super::MatrixFreeProblem;
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
        let v = |k: usize| vec![0.0; k];
        let mut s = Scratch::new(n, m);
        let (mut fx, mut fy, mut w, mut r, mut hr) = (v(n), v(m), v(m), v(m), v(m));
        let (mut bw, mut old, mut y_star) = (v(n), v(n), v(m));
        let (mut upper, mut step) = (UpperState::new(n), vec![0.0; n]);
        run(problem, (x0, y0), self.schedule(), Vec::new(), |_, x, y, kept| {
            descend(problem, x, y, self.lower_iters, self.alpha(), &mut s);
            problem.upper_grad(x, y, &mut fx, &mut fy);
            if !self.warm_w {
                w.iter_mut().for_each(|c| *c = 0.0);
            }
            // r = ∇y F + H w (and B w); hr = H r.
            let residual = |w: &[f64], r: &mut [f64], hr: &mut [f64], bw: &mut [f64], s: &mut Scratch| {
                problem.lower_hvp_y(x, y, w, bw, r);
                axpy(r, 1.0, &fy);
                problem.lower_hvp_y(x, y, r, &mut s.hx, hr);
            };
            for _ in 0..self.w_iters {
                residual(&w, &mut r, &mut hr, &mut bw, &mut s);
                axpy(&mut w, -self.w_step, &hr);
            }
            residual(&w, &mut r, &mut hr, &mut bw, &mut s);
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
            let moved = upper_step(problem, x, &step, self.upper_step, &mut old);
            Step { dir_norm: norm(&fx), moved, extras }
        })
    }
}
