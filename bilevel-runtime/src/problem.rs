//! The [`Problem`] trait: what an algorithm may ask of a bilevel problem.

use nalgebra::{DefaultAllocator, Dim, OMatrix, OVector};

use crate::dims::Alloc;

/// Value and both gradients of one objective at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Grad<N: Dim, M: Dim>
where
    DefaultAllocator: Alloc<N, M>,
{
    /// The objective's value.
    pub value: f64,
    /// Its gradient in the upper variable, `∇x`.
    pub x: OVector<f64, N>,
    /// Its gradient in the lower variable, `∇y`.
    pub y: OVector<f64, M>,
}

/// Value, gradients and the second-order blocks in `y` of one objective at one point (one fused call).
#[derive(Clone, Debug, PartialEq)]
pub struct Hess<N: Dim, M: Dim>
where
    DefaultAllocator: Alloc<N, M>,
{
    /// The objective's value.
    pub value: f64,
    /// Its gradient in the upper variable, `∇x`.
    pub grad_x: OVector<f64, N>,
    /// Its gradient in the lower variable, `∇y`.
    pub grad_y: OVector<f64, M>,
    /// The symmetric block `∇²yy` (`m × m`).
    pub yy: OMatrix<f64, M, M>,
    /// The mixed block `∇²xy` (`n × m`, entry `(i, j)` is `∂²/∂xᵢ∂yⱼ`).
    pub xy: OMatrix<f64, N, M>,
}

/// A box `lo ≤ x ≤ hi` (component-wise) on the upper variable; infinite ends are allowed.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds<N: Dim>
where
    DefaultAllocator: nalgebra::allocator::Allocator<N>,
{
    /// Lower ends.
    pub lo: OVector<f64, N>,
    /// Upper ends.
    pub hi: OVector<f64, N>,
}

impl<N: Dim> Bounds<N>
where
    DefaultAllocator: nalgebra::allocator::Allocator<N>,
{
    /// `Π_X`: the component-wise clamp of `x` into the box.
    pub fn project(&self, x: &OVector<f64, N>) -> OVector<f64, N> {
        x.zip_zip_map(&self.lo, &self.hi, |v, lo, hi| v.max(lo).min(hi))
    }
}

/// A bilevel problem: minimize `F(x, y)` over `x`, where `y` minimizes `G(x, y)`.
///
/// The `bilevel!` macro generates an implementation with `Const` dimensions whose methods are straight-line code
/// derived symbolically from the problem text. The fused methods ([`Problem::upper_hess`],
/// [`Problem::lower_hess`]) return several outputs at once because the inner steps of the algorithms need them
/// together, and computing them together shares every common subexpression.
pub trait Problem
where
    DefaultAllocator: Alloc<Self::N, Self::M>,
{
    /// Dimension `n` of the upper variable `x`.
    type N: Dim;
    /// Dimension `m` of the lower variable `y`.
    type M: Dim;

    /// The problem's name, as written after `problem`.
    fn name(&self) -> &str;
    /// The dimensions `(n, m)`.
    fn dims(&self) -> (Self::N, Self::M);
    /// The start point `(x₀, y₀)` declared by `start` (zero where not declared).
    fn start(&self) -> (OVector<f64, Self::N>, OVector<f64, Self::M>);
    /// The box on `x`, if one was declared.
    fn bounds(&self) -> Option<Bounds<Self::N>>;

    /// `F(x, y)`.
    fn upper(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> f64;
    /// `G(x, y)`.
    fn lower(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> f64;
    /// `F`, `∇x F` and `∇y F` in one call.
    fn upper_grad(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> Grad<Self::N, Self::M>;
    /// `G`, `∇x G` and `∇y G` in one call.
    fn lower_grad(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> Grad<Self::N, Self::M>;
    /// `F`, its gradients, `∇²yy F` and `∇²xy F` in one call.
    fn upper_hess(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> Hess<Self::N, Self::M>;
    /// `G`, its gradients, `H = ∇²yy G` and `B = ∇²xy G` in one call.
    fn lower_hess(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> Hess<Self::N, Self::M>;
    /// `∇²xx F` (`n × n`). No algorithm needs it; it is there to analyse the upper level (e.g. second-order
    /// conditions). Generated problems compute it column by column as products `∇²xx F · e_j`, each costing about
    /// a gradient, so that its code grows like the gradient's even where the block is dense (`norm(x)`). The result
    /// is on the stack: at n = 1024 it is 8 MB, more than a main thread has.
    fn upper_hess_xx(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> OMatrix<f64, Self::N, Self::N>;
    /// `∇²xx G` (`n × n`).
    fn lower_hess_xx(&self, x: &OVector<f64, Self::N>, y: &OVector<f64, Self::M>) -> OMatrix<f64, Self::N, Self::N>;
}
