//! Lower gradient steps on slices, and their reverse-mode differentiation over a stored trajectory.

use super::vector::axpy;
use super::MatrixFreeProblem;

/// Scratch vectors for the steps: a gradient pair and a product pair.
pub(crate) struct Scratch {
    pub gx: Vec<f64>,
    pub gy: Vec<f64>,
    pub hx: Vec<f64>,
    pub hy: Vec<f64>,
}

impl Scratch {
    pub fn new(n: usize, m: usize) -> Scratch {
        Scratch { gx: vec![0.0; n], gy: vec![0.0; m], hx: vec![0.0; n], hy: vec![0.0; m] }
    }
}

/// `steps` plain gradient steps `y ← y − α ∇y G(x, y)` (not differentiated).
pub(crate) fn descend<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    y: &mut [f64],
    steps: usize,
    alpha: f64,
    s: &mut Scratch,
) {
    for _ in 0..steps {
        p.lower_grad(x, y, &mut s.gx, &mut s.gy);
        axpy(y, -alpha, &s.gy);
    }
}

/// `steps` gradient steps of size `alpha` from `y`, storing `y_0 … y_{steps−1}` row by row in `trajectory`.
pub(crate) fn unroll<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    y: &mut [f64],
    (steps, alpha): (usize, f64),
    trajectory: &mut [f64],
    s: &mut Scratch,
) {
    let m = y.len();
    for t in 0..steps {
        trajectory[t * m..(t + 1) * m].copy_from_slice(y);
        p.lower_grad(x, y, &mut s.gx, &mut s.gy);
        axpy(y, -alpha, &s.gy);
    }
}

/// The reverse sweep of [`unroll`]: given `d = ∇x F` and `a = ∇y F` at the last iterate, leaves
/// `d = ∇x F + J_x ∇y F` and `a = J_y ∇y F`, one product `(B_t a, H_t a)` per step, last step first
/// (`J_x ← J_x (I − α H_t) − α B_t`, `J_y ← J_y (I − α H_t)` in the papers' row convention).
pub(crate) fn reverse<P: MatrixFreeProblem>(
    p: &P,
    x: &[f64],
    (steps, alpha): (usize, f64),
    trajectory: &[f64],
    d: &mut [f64],
    a: &mut [f64],
    s: &mut Scratch,
) {
    let m = a.len();
    for t in (0..steps).rev() {
        p.lower_hvp_y(x, &trajectory[t * m..(t + 1) * m], a, &mut s.hx, &mut s.hy);
        axpy(d, -alpha, &s.hx);
        axpy(a, -alpha, &s.hy);
    }
}
