//! [`Dense`]: any [`Problem`] seen as a [`MatrixFreeProblem`], its products taken from its dense blocks.

use nalgebra::{DVector, DefaultAllocator, Dim, Dyn, OMatrix, OVector, U1};

use super::MatrixFreeProblem;
use crate::dims::Alloc;
use crate::problem::{Bounds, Hess, Problem};

/// A problem with dense blocks ([`Problem`], e.g. compiled by `bilevel!` without data) seen through the
/// products interface the algorithms use, with its blocks as a native capability
/// ([`MatrixFreeProblem::has_blocks`]): the algorithms compute the blocks once at each point and take that
/// point's products from them. This is how [`Algorithm::solve`](crate::Algorithm::solve) runs a [`Problem`];
/// each product called directly computes the blocks at the point and multiplies.
///
/// ```
/// use bilevel_runtime::{Dense, MatrixFreeProblem, Problem};
/// # use bilevel_runtime::nalgebra::{Const, OVector};
/// # #[derive(Clone)] struct Q;
/// # impl Problem for Q {
/// #     type N = Const<1>; type M = Const<1>;
/// #     fn name(&self) -> &str { "Q" }
/// #     fn dims(&self) -> (Const<1>, Const<1>) { (Const, Const) }
/// #     fn start(&self) -> (OVector<f64, Const<1>>, OVector<f64, Const<1>>) { (Default::default(), Default::default()) }
/// #     fn bounds(&self) -> Option<bilevel_runtime::Bounds<Const<1>>> { None }
/// #     fn upper(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> f64 { y[0] * y[0] }
/// #     fn lower(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> f64 { (y[0] - x[0]).powi(2) }
/// #     fn upper_grad(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::Grad<Const<1>, Const<1>> { unimplemented!() }
/// #     fn lower_grad(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::Grad<Const<1>, Const<1>> { unimplemented!() }
/// #     fn upper_hess(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::Hess<Const<1>, Const<1>> { unimplemented!() }
/// #     fn lower_hess(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::Hess<Const<1>, Const<1>> {
/// #         let d = y[0] - x[0];
/// #         bilevel_runtime::Hess { value: d * d, grad_x: [-2.0 * d].into(), grad_y: [2.0 * d].into(), yy: [2.0].into(), xy: [-2.0].into() }
/// #     }
/// #     fn upper_hess_xx(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::nalgebra::Matrix1<f64> { [0.0].into() }
/// #     fn lower_hess_xx(&self, x: &OVector<f64, Const<1>>, y: &OVector<f64, Const<1>>) -> bilevel_runtime::nalgebra::Matrix1<f64> { [2.0].into() }
/// # }
/// // `Q` is a `Problem` with G = (y − x)²: H = 2, B = −2.
/// let q = Dense(Q);
/// let (mut bv, mut hv) = ([0.0], [0.0]);
/// q.lower_hvp_y(&[1.0], &[3.0], &[0.5], &mut bv, &mut hv);
/// assert_eq!((bv, hv), ([-1.0], [1.0]));
/// ```
#[derive(Clone, Debug)]
pub struct Dense<P>(pub P);

impl<P: Problem> Dense<P>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    #[inline(always)]
    fn x(&self, x: &[f64]) -> OVector<f64, P::N> {
        OVector::from_iterator_generic(self.0.dims().0, U1, x.iter().copied())
    }

    #[inline(always)]
    fn y(&self, y: &[f64]) -> OVector<f64, P::M> {
        OVector::from_iterator_generic(self.0.dims().1, U1, y.iter().copied())
    }
}

fn dynamic<D: Dim>(v: &OVector<f64, D>) -> DVector<f64>
where
    DefaultAllocator: nalgebra::allocator::Allocator<D>,
{
    DVector::from_iterator(v.len(), v.iter().copied())
}

impl<P: Problem> MatrixFreeProblem for Dense<P>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    type X = OVector<f64, P::N>;
    type Y = OVector<f64, P::M>;
    type YY = OMatrix<f64, P::M, P::M>;
    type XY = OMatrix<f64, P::N, P::M>;

    fn name(&self) -> &str {
        self.0.name()
    }

    fn dims(&self) -> (usize, usize) {
        let (n, m) = self.0.dims();
        (n.value(), m.value())
    }

    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        let (x, y) = self.0.start();
        (dynamic(&x), dynamic(&y))
    }

    fn bounds(&self) -> Option<Bounds<Dyn>> {
        self.0.bounds().map(|b| Bounds { lo: dynamic(&b.lo), hi: dynamic(&b.hi) })
    }

    #[inline(always)]
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        self.0.upper(&self.x(x), &self.y(y))
    }

    #[inline(always)]
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        self.0.lower(&self.x(x), &self.y(y))
    }

    #[inline(always)]
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let g = self.0.upper_grad(&self.x(x), &self.y(y));
        gx.copy_from_slice(g.x.as_slice());
        gy.copy_from_slice(g.y.as_slice());
        g.value
    }

    #[inline(always)]
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let g = self.0.lower_grad(&self.x(x), &self.y(y));
        gx.copy_from_slice(g.x.as_slice());
        gy.copy_from_slice(g.y.as_slice());
        g.value
    }

    #[inline(always)]
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let h = self.0.upper_hess(&self.x(x), &self.y(y));
        let v = self.y(v);
        hx.copy_from_slice((&h.xy * &v).as_slice());
        hy.copy_from_slice((&h.yy * &v).as_slice());
    }

    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = (self.x(x), self.y(y));
        let u = self.x(u);
        hx.copy_from_slice((self.0.upper_hess_xx(&px, &py) * &u).as_slice());
        hy.copy_from_slice((self.0.upper_hess(&px, &py).xy.transpose() * &u).as_slice());
    }

    #[inline(always)]
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let h = self.0.lower_hess(&self.x(x), &self.y(y));
        let v = self.y(v);
        hx.copy_from_slice((&h.xy * &v).as_slice());
        hy.copy_from_slice((&h.yy * &v).as_slice());
    }

    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = (self.x(x), self.y(y));
        let u = self.x(u);
        hx.copy_from_slice((self.0.lower_hess_xx(&px, &py) * &u).as_slice());
        hy.copy_from_slice((self.0.lower_hess(&px, &py).xy.transpose() * &u).as_slice());
    }

    fn has_blocks(&self) -> bool {
        true
    }

    #[inline(always)]
    fn lower_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        write_blocks(&self.0.lower_hess(&self.x(x), &self.y(y)), (gx, gy), (h, b))
    }

    #[inline(always)]
    fn upper_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        write_blocks(&self.0.upper_hess(&self.x(x), &self.y(y)), (gx, gy), (h, b))
    }
}

#[inline(always)]
/// Copies a fused evaluation into slices: the gradients, then `∇²yy` and `∇²xy` column by column; returns the value.
fn write_blocks<N: Dim, M: Dim>(
    e: &Hess<N, M>,
    (gx, gy): (&mut [f64], &mut [f64]),
    (h, b): (&mut [f64], &mut [f64]),
) -> f64
where
    DefaultAllocator: Alloc<N, M>,
{
    gx.copy_from_slice(e.grad_x.as_slice());
    gy.copy_from_slice(e.grad_y.as_slice());
    h.copy_from_slice(e.yy.as_slice());
    b.copy_from_slice(e.xy.as_slice());
    e.value
}
