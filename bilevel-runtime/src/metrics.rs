//! The metrics of a record: the BGS residual, by an exact pseudo-inverse where the problem has dense blocks and by
//! LSQR on products otherwise.

use crate::driver::project;
use crate::linalg::Pinv;
use crate::matrix_free::curvature::matvec;
use crate::matrix_free::krylov::Krylov;
use crate::matrix_free::vector::{axpy, norm};
use crate::matrix_free::MatrixFreeProblem;

/// The fixed cutoff of the pseudo-inverse in [`bgs_residual`], independent of any solver's options.
pub const BGS_RESIDUAL_RTOL: f64 = 1e-6;

/// Iterations of LSQR for the BGS residual of matrix-free runs (see [`bgs_residual`]).
pub const BGS_RESIDUAL_ITERS: usize = 200;

/// `‖∇x F(x, y) − B H† ∇y F(x, y)‖` with `H = ∇²yy G`, `B = ∇²xy G`; with a box on `x`, the norm of the projected
/// step `x − Π_X(x − d)` instead, so that it is zero at a constrained equilibrium too. It is zero exactly at
/// equilibria of the Bilevel Game with Selection (Arbel & Mairal, condition (SC)) when `y` is a local minimizer of
/// `G(x, ·)`.
///
/// On a problem with dense blocks ([`MatrixFreeProblem::has_blocks`]: every problem without data) `H†` is an
/// exact pseudo-inverse at the fixed relative cutoff [`BGS_RESIDUAL_RTOL`], cheap enough for every record. On a
/// problem with products only, `H† ∇y F` is [`BGS_RESIDUAL_ITERS`] iterations of LSQR from 0 (which converges to
/// the minimum-norm least-squares solution; eigenvalues of `H` far below the largest are reached last, as a
/// cutoff), about `2·BGS_RESIDUAL_ITERS + 2` products, so runs on such problems compute it at the start and at the
/// final iterate only (NaN in between).
///
/// ```
/// use bilevel_runtime::metrics::bgs_residual;
/// # use bilevel_runtime::nalgebra::{Const, OVector, Matrix1, Vector1};
/// # use bilevel_runtime::{Bounds, Grad, Hess, Problem};
/// # struct Q;
/// # type V = OVector<f64, Const<1>>;
/// # impl Problem for Q {
/// #     type N = Const<1>; type M = Const<1>;
/// #     fn name(&self) -> &str { "Q" }
/// #     fn dims(&self) -> (Const<1>, Const<1>) { (Const, Const) }
/// #     fn start(&self) -> (V, V) { (V::zeros(), V::zeros()) }
/// #     fn bounds(&self) -> Option<Bounds<Const<1>>> { None }
/// #     fn upper(&self, x: &V, y: &V) -> f64 { 0.5 * (x[0] * x[0] + y[0] * y[0]) }
/// #     fn lower(&self, x: &V, y: &V) -> f64 { 0.5 * (y[0] - x[0]).powi(2) }
/// #     fn upper_grad(&self, x: &V, y: &V) -> Grad<Const<1>, Const<1>> { Grad { value: self.upper(x, y), x: *x, y: *y } }
/// #     fn lower_grad(&self, x: &V, y: &V) -> Grad<Const<1>, Const<1>> { unimplemented!() }
/// #     fn upper_hess(&self, x: &V, y: &V) -> Hess<Const<1>, Const<1>> { unimplemented!() }
/// #     fn lower_hess(&self, x: &V, y: &V) -> Hess<Const<1>, Const<1>> {
/// #         let d = y[0] - x[0];
/// #         Hess { value: 0.5 * d * d, grad_x: Vector1::new(-d), grad_y: Vector1::new(d), yy: Matrix1::new(1.0), xy: Matrix1::new(-1.0) }
/// #     }
/// #     fn upper_hess_xx(&self, x: &V, y: &V) -> Matrix1<f64> { unimplemented!() }
/// #     fn lower_hess_xx(&self, x: &V, y: &V) -> Matrix1<f64> { unimplemented!() }
/// # }
/// // F = ½(x² + y²), G = ½(y − x)²: H = 1, B = −1, so the residual is |x + y|.
/// assert_eq!(bgs_residual(&Q, &[0.5], &[0.25]), 0.75);
/// ```
pub fn bgs_residual<P: MatrixFreeProblem>(problem: &P, x: &[f64], y: &[f64]) -> f64 {
    let (n, m) = problem.dims();
    let v = |k: usize| vec![0.0; k];
    let (mut fx, mut fy, mut z, mut bz, mut hz) = (v(n), v(m), v(m), v(n), v(m));
    problem.upper_grad(x, y, &mut fx, &mut fy);
    if problem.has_blocks() {
        let (mut h, mut b) = (v(m * m), v(n * m));
        problem.lower_blocks(x, y, &mut bz, &mut hz, &mut h, &mut b);
        Pinv::new(m).apply(&h, &fy, (BGS_RESIDUAL_RTOL, 0.0), &mut z);
        matvec(&b, &z, &mut bz);
    } else {
        let mut h = |u: &[f64], out: &mut [f64]| problem.lower_hvp_y(x, y, u, &mut bz, out);
        Krylov::new(m).lsqr(&mut h, &fy, &mut z, BGS_RESIDUAL_ITERS, 1e-12);
        problem.lower_hvp_y(x, y, &z, &mut bz, &mut hz);
    }
    axpy(&mut fx, -1.0, &bz);
    if let Some(bounds) = problem.bounds() {
        // The projected step x − Π_X(x − d), zero at a constrained equilibrium.
        let mut stepped = x.to_vec();
        axpy(&mut stepped, -1.0, &fx);
        project(Some(&bounds), &mut stepped);
        axpy(&mut stepped, -1.0, x);
        return norm(&stepped);
    }
    norm(&fx)
}
