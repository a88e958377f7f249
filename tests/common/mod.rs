//! Checks shared by the tests of problems with data: a data problem against the same problem written with
//! literal data (the dense path is the oracle) and against central differences of its own gradients.
#![allow(dead_code)]

pub mod logistic;

use bilevel::nalgebra::{DefaultAllocator, Dim, OVector, U1};
use bilevel::{Alloc, MatrixFreeProblem, Problem};

/// Deterministic numbers in [-1, 1) (the runtime's linear congruential generator).
pub use bilevel::data::numbers;

/// `a` and `b` agree to `tol`, relative to the larger magnitude plus one.
pub fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!((p - q).abs() <= tol * (1.0 + p.abs().max(q.abs())), "{what}[{i}]: {p} vs {q}");
    }
}

type Products<P> = fn(&P, &[f64], &[f64], &[f64], &mut [f64], &mut [f64]);

/// `(hx, hy)` of one product method.
fn product<P: MatrixFreeProblem>(f: Products<P>, p: &P, x: &[f64], y: &[f64], d: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (n, m) = p.dims();
    let (mut hx, mut hy) = (vec![0.0; n], vec![0.0; m]);
    f(p, x, y, d, &mut hx, &mut hy);
    (hx, hy)
}

fn vector<D: Dim>(d: D, values: &[f64]) -> OVector<f64, D>
where
    DefaultAllocator: bilevel::nalgebra::allocator::Allocator<D>,
{
    OVector::<f64, D>::from_iterator_generic(d, U1, values.iter().copied())
}

/// At ten random points: values and gradients of both objectives equal the dense problem's (relative 1e-12),
/// and every product equals the dense block times a random vector (relative 1e-12).
pub fn agrees_with_dense<P: MatrixFreeProblem, D: Problem>(p: &P, dense: &D)
where
    DefaultAllocator: Alloc<D::N, D::M>,
{
    let (n, m) = p.dims();
    let (dn, dm) = dense.dims();
    assert_eq!((dn.value(), dm.value()), (n, m), "dimensions");
    for seed in 1..=10 {
        let v = numbers(2 * (n + m), seed);
        let (x, y, u, d) = (&v[..n], &v[n..n + m], &v[n + m..2 * n + m], &v[2 * n + m..]);
        let (sx, sy, su, sd) = (vector(dn, x), vector(dm, y), vector(dn, u), vector(dm, d));
        for upper in [false, true] {
            let (mut gx, mut gy) = (vec![0.0; n], vec![0.0; m]);
            let (value, direct, want, hess, xx) = if upper {
                let value = p.upper_grad(x, y, &mut gx, &mut gy);
                (
                    value,
                    p.upper(x, y),
                    dense.upper_grad(&sx, &sy),
                    dense.upper_hess(&sx, &sy),
                    dense.upper_hess_xx(&sx, &sy),
                )
            } else {
                let value = p.lower_grad(x, y, &mut gx, &mut gy);
                (
                    value,
                    p.lower(x, y),
                    dense.lower_grad(&sx, &sy),
                    dense.lower_hess(&sx, &sy),
                    dense.lower_hess_xx(&sx, &sy),
                )
            };
            let level = if upper { "F" } else { "G" };
            assert_close(&[value, direct], &[want.value, want.value], 1e-13, level);
            assert_close(&gx, want.x.as_slice(), 1e-12, &format!("∇x {level}"));
            assert_close(&gy, want.y.as_slice(), 1e-12, &format!("∇y {level}"));
            let (fy, fx): (Products<P>, Products<P>) =
                if upper { (P::upper_hvp_y, P::upper_hvp_x) } else { (P::lower_hvp_y, P::lower_hvp_x) };
            let (hx, hy) = product(fy, p, x, y, d);
            assert_close(&hx, (&hess.xy * &sd).as_slice(), 1e-12, &format!("∇²xy {level}·v"));
            assert_close(&hy, (&hess.yy * &sd).as_slice(), 1e-12, &format!("∇²yy {level}·v"));
            let (hx, hy) = product(fx, p, x, y, u);
            assert_close(&hx, (&xx * &su).as_slice(), 1e-12, &format!("∇²xx {level}·u"));
            assert_close(&hy, (hess.xy.transpose() * &su).as_slice(), 1e-12, &format!("∇²yx {level}·u"));
        }
    }
}

/// At five random points: every product of both objectives equals central differences of the gradient along
/// the direction (step 1e-6, relative 1e-7).
pub fn agrees_with_differences<P: MatrixFreeProblem>(p: &P) {
    let (n, m) = p.dims();
    let h = 1e-6;
    for seed in 21..=25 {
        let v = numbers(2 * (n + m), seed);
        let (x, y, u, d) = (&v[..n], &v[n..n + m], &v[n + m..2 * n + m], &v[2 * n + m..]);
        for upper in [false, true] {
            let grad = |dx: &[f64], dy: &[f64], s: f64| {
                let xs: Vec<f64> = x.iter().zip(dx).map(|(a, b)| a + s * b).collect();
                let ys: Vec<f64> = y.iter().zip(dy).map(|(a, b)| a + s * b).collect();
                let (mut gx, mut gy) = (vec![0.0; n], vec![0.0; m]);
                if upper {
                    p.upper_grad(&xs, &ys, &mut gx, &mut gy);
                } else {
                    p.lower_grad(&xs, &ys, &mut gx, &mut gy);
                }
                [gx, gy].concat()
            };
            let fd = |dx: &[f64], dy: &[f64]| -> Vec<f64> {
                let (plus, minus) = (grad(dx, dy, h), grad(dx, dy, -h));
                plus.iter().zip(&minus).map(|(a, b)| (a - b) / (2.0 * h)).collect()
            };
            let (fy, fx): (Products<P>, Products<P>) =
                if upper { (P::upper_hvp_y, P::upper_hvp_x) } else { (P::lower_hvp_y, P::lower_hvp_x) };
            let (hx, hy) = product(fy, p, x, y, d);
            assert_close(&[hx, hy].concat(), &fd(&vec![0.0; n], d), 1e-7, "product with v by differences");
            let (hx, hy) = product(fx, p, x, y, u);
            assert_close(&[hx, hy].concat(), &fd(u, &vec![0.0; m]), 1e-7, "product with u by differences");
        }
    }
}

/// A problem seen through its products only: every method forwarded but the dense blocks, which stay at the
/// trait's defaults (`has_blocks` false, blocks built from `m` products). Runs on it take the products-only
/// way through the algorithms (points kept, each product the problem's own, the BGS residual by LSQR), so that
/// it can be checked against the blocks' way on the same small problem.
pub struct ProductsOnly<P>(pub P);

impl<P: MatrixFreeProblem> MatrixFreeProblem for ProductsOnly<P> {
    type X = P::X;
    type Y = P::Y;
    type YY = P::YY;
    type XY = P::XY;

    fn name(&self) -> &str {
        self.0.name()
    }
    fn dims(&self) -> (usize, usize) {
        self.0.dims()
    }
    fn start(&self) -> (bilevel::nalgebra::DVector<f64>, bilevel::nalgebra::DVector<f64>) {
        self.0.start()
    }
    fn bounds(&self) -> Option<bilevel::Bounds<bilevel::nalgebra::Dyn>> {
        self.0.bounds()
    }
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        self.0.upper(x, y)
    }
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        self.0.lower(x, y)
    }
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.0.upper_grad(x, y, gx, gy)
    }
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        self.0.lower_grad(x, y, gx, gy)
    }
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.0.upper_hvp_y(x, y, v, hx, hy)
    }
    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.0.upper_hvp_x(x, y, u, hx, hy)
    }
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.0.lower_hvp_y(x, y, v, hx, hy)
    }
    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        self.0.lower_hvp_x(x, y, u, hx, hy)
    }
}
