//! [`Slices`]: a [`TapeProblem`] behind the matrix-free trait, its results written into the caller's slices (no
//! allocation per call; the `Problem` methods return heap vectors with `Dyn` sizes).

use bilevel_runtime::nalgebra::{DVector, Dyn};
use bilevel_runtime::{Bounds, MatrixFreeProblem, Problem};

use super::{ObjectiveTapes, TapeProblem};

/// A [`TapeProblem`] as a [`MatrixFreeProblem`]: gradients and Hessian–vector products into slices, computed by
/// the same tapes (products from the Hessian blocks' entries; `∇²xx·u` by its own tape), with no allocation.
/// What the tool's runs of problems without data run on (its dense blocks a capability, as for compiled
/// problems), and the fair measure of a tape against compiled code.
///
/// ```
/// use bilevel::tape::{Slices, TapeProblem};
/// use bilevel::MatrixFreeProblem;
/// let p = TapeProblem::from_text("problem P { upper x: real; lower y: real[2]; \
///     minimize upper: x^2 + y[1]; minimize lower: (y[0] - x)^2 + x * y[0] * y[1]; }").unwrap();
/// let (mut hx, mut hy) = ([0.0], [0.0; 2]);
/// Slices(&p).lower_hvp_y(&[2.0], &[1.0, 3.0], &[1.0, 0.0], &mut hx, &mut hy);
/// // ∇y G = (2(y0 − x) + x y1, x y0): H·e0 = (2, x) = (2, 2), B·e0 = −2 + y1 = 1
/// assert_eq!((hx, hy), ([1.0], [2.0, 2.0]));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Slices<'a>(pub &'a TapeProblem);

impl Slices<'_> {
    fn value(&self, t: &ObjectiveTapes, x: &[f64], y: &[f64]) -> f64 {
        self.0.run_along(&t.value, [x, y, &[]], |regs| t.value.output(regs, 0))
    }

    fn grad(&self, t: &ObjectiveTapes, (x, y): (&[f64], &[f64]), gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let n = self.0.n;
        self.0.run_along(&t.grad, [x, y, &[]], |regs| {
            for (i, g) in gx.iter_mut().enumerate() {
                *g = t.grad.output(regs, 1 + i);
            }
            for (i, g) in gy.iter_mut().enumerate() {
                *g = t.grad.output(regs, 1 + n + i);
            }
            t.grad.output(regs, 0)
        })
    }

    /// `∇²xy·v` into `hx` and `∇²yy·v` into `hy`, from the entries of the blocks.
    fn hvp_y(&self, t: &ObjectiveTapes, (x, y): (&[f64], &[f64]), v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let first = 1 + self.0.n + self.0.m;
        self.0.run_along(&t.hess, [x, y, &[]], |regs| {
            hx.fill(0.0);
            hy.fill(0.0);
            for (k, &(i, j)) in t.yy.iter().enumerate() {
                let h = t.hess.output(regs, first + k);
                hy[i] += h * v[j];
                if i != j {
                    hy[j] += h * v[i];
                }
            }
            for (k, &(i, j)) in t.xy.iter().enumerate() {
                hx[i] += t.hess.output(regs, first + t.yy.len() + k) * v[j];
            }
        });
    }

    /// The value, the gradients and the blocks `∇²yy` (m × m) and `∇²xy` (n × m), column by column, from one run
    /// of the Hessian tape.
    fn blocks(&self, t: &ObjectiveTapes, (x, y): (&[f64], &[f64]), (gx, gy): Grads, (h, b): Grads) -> f64 {
        let (n, m) = (self.0.n, self.0.m);
        let first = 1 + n + m;
        self.0.run_along(&t.hess, [x, y, &[]], |regs| {
            gx.iter_mut().enumerate().for_each(|(i, g)| *g = t.hess.output(regs, 1 + i));
            gy.iter_mut().enumerate().for_each(|(i, g)| *g = t.hess.output(regs, 1 + n + i));
            h.fill(0.0);
            b.fill(0.0);
            for (k, &(i, j)) in t.yy.iter().enumerate() {
                let v = t.hess.output(regs, first + k);
                h[j * m + i] = v;
                h[i * m + j] = v;
            }
            for (k, &(i, j)) in t.xy.iter().enumerate() {
                b[j * n + i] = t.hess.output(regs, first + t.yy.len() + k);
            }
            t.hess.output(regs, 0)
        })
    }

    /// `∇²xx·u` into `hx` (its own tape) and `∇²yx·u` into `hy` (the entries of `∇²xy`).
    fn hvp_x(&self, t: &ObjectiveTapes, (x, y): (&[f64], &[f64]), u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.0.run_along(&t.xx_u, [x, y, u], |regs| {
            for (i, h) in hx.iter_mut().enumerate() {
                *h = t.xx_u.output(regs, i);
            }
        });
        let first = 1 + self.0.n + self.0.m + t.yy.len();
        self.0.run_along(&t.hess, [x, y, &[]], |regs| {
            hy.fill(0.0);
            for (k, &(i, j)) in t.xy.iter().enumerate() {
                hy[j] += t.hess.output(regs, first + k) * u[i];
            }
        });
    }
}

impl MatrixFreeProblem for Slices<'_> {
    type X = Vec<f64>;
    type Y = Vec<f64>;
    type YY = Vec<f64>;
    type XY = Vec<f64>;

    fn name(&self) -> &str {
        Problem::name(self.0)
    }
    fn dims(&self) -> (usize, usize) {
        (self.0.n, self.0.m)
    }
    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        Problem::start(self.0)
    }
    fn bounds(&self) -> Option<Bounds<Dyn>> {
        Problem::bounds(self.0)
    }
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        self.value(&self.0.upper, x, y)
    }
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        self.value(&self.0.lower, x, y)
    }
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.grad(&self.0.upper, (x, y), gx, gy)
    }
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.grad(&self.0.lower, (x, y), gx, gy)
    }
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.hvp_y(&self.0.upper, (x, y), v, hx, hy)
    }
    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.hvp_x(&self.0.upper, (x, y), u, hx, hy)
    }
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.hvp_y(&self.0.lower, (x, y), v, hx, hy)
    }
    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.hvp_x(&self.0.lower, (x, y), u, hx, hy)
    }
    fn has_blocks(&self) -> bool {
        true
    }
    fn lower_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        self.blocks(&self.0.lower, (x, y), (gx, gy), (h, b))
    }
    fn upper_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        self.blocks(&self.0.upper, (x, y), (gx, gy), (h, b))
    }
}

/// Two output slices.
type Grads<'a> = (&'a mut [f64], &'a mut [f64]);
