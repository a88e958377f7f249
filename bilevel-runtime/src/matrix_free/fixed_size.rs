//! Every [`Problem`] (a problem of fixed size with dense blocks, as `bilevel!` compiles one without data) is a
//! [`MatrixFreeProblem`]: its products are taken from its blocks, and the blocks are a native capability.

use nalgebra::{DVector, DefaultAllocator, Dim, Dyn, OMatrix, OVector, U1};

use super::MatrixFreeProblem;
use crate::dims::Alloc;
use crate::problem::{Bounds, Hess, Problem};

/// The fixed-size vector of `x`'s (or `y`'s) dimension `d` holding `v`.
#[inline(always)]
fn typed<D: Dim>(d: D, v: &[f64]) -> OVector<f64, D>
where
    DefaultAllocator: nalgebra::allocator::Allocator<D>,
{
    OVector::from_iterator_generic(d, U1, v.iter().copied())
}

/// The point `(x, y)` in `p`'s vector types.
#[inline(always)]
fn point<P: Problem>(p: &P, x: &[f64], y: &[f64]) -> (OVector<f64, P::N>, OVector<f64, P::M>)
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let (n, m) = Problem::dims(p);
    (typed(n, x), typed(m, y))
}

fn dynamic<D: Dim>(v: &OVector<f64, D>) -> DVector<f64>
where
    DefaultAllocator: nalgebra::allocator::Allocator<D>,
{
    DVector::from_iterator(v.len(), v.iter().copied())
}

/// A problem with dense blocks seen through the products interface the algorithms use, with its blocks as a
/// native capability ([`MatrixFreeProblem::has_blocks`]): the algorithms compute the blocks once at each point and
/// take that point's products from them; each product called directly computes the blocks at the point and
/// multiplies. (Where a type implements both traits and both are imported, call a method as
/// `MatrixFreeProblem::lower_hvp_y(&p, …)` or `Problem::lower_hess(&p, …)`.)
///
/// ```
/// use bilevel_runtime::MatrixFreeProblem;
/// # use bilevel_runtime::Problem;
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
/// let (mut bv, mut hv) = ([0.0], [0.0]);
/// MatrixFreeProblem::lower_hvp_y(&Q, &[1.0], &[3.0], &[0.5], &mut bv, &mut hv);
/// assert_eq!((bv, hv), ([-1.0], [1.0]));
/// assert!(MatrixFreeProblem::has_blocks(&Q));
/// ```
impl<P: Problem> MatrixFreeProblem for P
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    type X = OVector<f64, P::N>;
    type Y = OVector<f64, P::M>;
    type YY = OMatrix<f64, P::M, P::M>;
    type XY = OMatrix<f64, P::N, P::M>;

    fn name(&self) -> &str {
        Problem::name(self)
    }

    fn dims(&self) -> (usize, usize) {
        let (n, m) = Problem::dims(self);
        (n.value(), m.value())
    }

    fn start(&self) -> (DVector<f64>, DVector<f64>) {
        let (x, y) = Problem::start(self);
        (dynamic(&x), dynamic(&y))
    }

    fn bounds(&self) -> Option<Bounds<Dyn>> {
        Problem::bounds(self).map(|b| Bounds { lo: dynamic(&b.lo), hi: dynamic(&b.hi) })
    }

    #[inline(always)]
    fn upper(&self, x: &[f64], y: &[f64]) -> f64 {
        let (px, py) = point(self, x, y);
        Problem::upper(self, &px, &py)
    }

    #[inline(always)]
    fn lower(&self, x: &[f64], y: &[f64]) -> f64 {
        let (px, py) = point(self, x, y);
        Problem::lower(self, &px, &py)
    }

    #[inline(always)]
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let (px, py) = point(self, x, y);
        let g = Problem::upper_grad(self, &px, &py);
        gx.copy_from_slice(g.x.as_slice());
        gy.copy_from_slice(g.y.as_slice());
        g.value
    }

    #[inline(always)]
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let (px, py) = point(self, x, y);
        let g = Problem::lower_grad(self, &px, &py);
        gx.copy_from_slice(g.x.as_slice());
        gy.copy_from_slice(g.y.as_slice());
        g.value
    }

    #[inline(always)]
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = point(self, x, y);
        let h = Problem::upper_hess(self, &px, &py);
        let v = typed(Problem::dims(self).1, v);
        hx.copy_from_slice((&h.xy * &v).as_slice());
        hy.copy_from_slice((&h.yy * &v).as_slice());
    }

    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = point(self, x, y);
        let u = typed(Problem::dims(self).0, u);
        hx.copy_from_slice((Problem::upper_hess_xx(self, &px, &py) * &u).as_slice());
        hy.copy_from_slice((Problem::upper_hess(self, &px, &py).xy.transpose() * &u).as_slice());
    }

    #[inline(always)]
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = point(self, x, y);
        let h = Problem::lower_hess(self, &px, &py);
        let v = typed(Problem::dims(self).1, v);
        hx.copy_from_slice((&h.xy * &v).as_slice());
        hy.copy_from_slice((&h.yy * &v).as_slice());
    }

    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let (px, py) = point(self, x, y);
        let u = typed(Problem::dims(self).0, u);
        hx.copy_from_slice((Problem::lower_hess_xx(self, &px, &py) * &u).as_slice());
        hy.copy_from_slice((Problem::lower_hess(self, &px, &py).xy.transpose() * &u).as_slice());
    }

    fn has_blocks(&self) -> bool {
        true
    }

    #[inline(always)]
    fn lower_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        let (px, py) = point(self, x, y);
        write_blocks(&Problem::lower_hess(self, &px, &py), (gx, gy), (h, b))
    }

    #[inline(always)]
    fn upper_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        let (px, py) = point(self, x, y);
        write_blocks(&Problem::upper_hess(self, &px, &py), (gx, gy), (h, b))
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
