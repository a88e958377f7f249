//! Lower gradient steps on slices, and their reverse-mode differentiation over a stored trajectory.

use super::curvature::Curvature;
use super::vector::{axpy, Buf};
use super::MatrixFreeProblem;

/// Scratch vectors for the steps: a gradient pair and a product pair.
pub(crate) struct Scratch<P: MatrixFreeProblem> {
    pub gx: Buf<P::X>,
    pub gy: Buf<P::Y>,
    pub hx: Buf<P::X>,
    pub hy: Buf<P::Y>,
}

impl<P: MatrixFreeProblem> Scratch<P> {
    pub fn new(n: usize, m: usize) -> Self {
        Scratch { gx: Buf::zeros(n), gy: Buf::zeros(m), hx: Buf::zeros(n), hy: Buf::zeros(m) }
    }
}

/// `steps` plain gradient steps `y ← y − α ∇y G(x, y)` (not differentiated).
#[inline]
pub(crate) fn descend<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    y: &mut [f64],
    steps: usize,
    alpha: f64,
    s: &mut Scratch<P>,
) {
    for _ in 0..steps {
        p.lower_grad(x, y, &mut s.gx, &mut s.gy);
        axpy(y, -alpha, &s.gy);
    }
}

/// `steps` gradient steps of size `alpha` from `y`, keeping the curvature of `G` at each `y_t` (t = 0 … steps−1)
/// in slot `t` of `lower`.
#[inline]
pub(crate) fn unroll<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    y: &mut [f64],
    (steps, alpha): (usize, f64),
    lower: &mut Curvature,
    s: &mut Scratch<P>,
) {
    for t in 0..steps {
        lower.keep(p, t, (x, y), (&mut s.gx, &mut s.gy));
        axpy(y, -alpha, &s.gy);
    }
}

/// The reverse sweep of [`unroll`]: given `d = ∇x F` and `a = ∇y F` at the last iterate, leaves
/// `d = ∇x F + J_x ∇y F` and `a = J_y ∇y F`, one product `(B_t a, H_t a)` per step, last step first
/// (`J_x ← J_x (I − α H_t) − α B_t`, `J_y ← J_y (I − α H_t)` in the papers' row convention).
#[inline]
pub(crate) fn reverse<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    (steps, alpha): (usize, f64),
    lower: &Curvature,
    (d, a): (&mut [f64], &mut [f64]),
    s: &mut Scratch<P>,
) {
    for t in (0..steps).rev() {
        lower.apply(p, t, x, a, (&mut s.hx, &mut s.hy));
        axpy(d, -alpha, &s.hx);
        axpy(a, -alpha, &s.hy);
    }
}
