//! The metrics every run records at every iterate.

use nalgebra::{DefaultAllocator, Dim, OVector};

use crate::dims::Alloc;
use crate::linalg::pinv_apply;
use crate::problem::{Grad, Hess, Problem};
use crate::trace::{Extra, Record};

/// The fixed cutoff of the pseudo-inverse in [`bgs_residual`], independent of any solver's options.
pub const BGS_RESIDUAL_RTOL: f64 = 1e-6;

/// `‖∇x F(x, y) − B H† ∇y F(x, y)‖` with `H = ∇²yy G`, `B = ∇²xy G` and an exact pseudo-inverse at the fixed
/// relative cutoff [`BGS_RESIDUAL_RTOL`]; with a box on `x`, the norm of the projected step
/// `x − Π_X(x − (∇x F − B H† ∇y F))` instead, so that it is zero at a constrained equilibrium too. It is zero exactly at equilibria of the Bilevel Game with Selection
/// (Arbel & Mairal, condition (SC)) when `y` is a local minimizer of `G(x, ·)`.
pub fn bgs_residual<P: Problem>(problem: &P, x: &OVector<f64, P::N>, y: &OVector<f64, P::M>) -> f64
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    let d = direction_of(&problem.upper_grad(x, y), &problem.lower_hess(x, y));
    projected(problem, x, d)
}

/// The implicit hypergradient `∇x F − B H† ∇y F` from `F`'s gradients and `G`'s Hessian blocks at one point.
fn direction_of<N: Dim, M: Dim>(f: &Grad<N, M>, g: &Hess<N, M>) -> OVector<f64, N>
where
    DefaultAllocator: Alloc<N, M>,
{
    let h_pinv_fy = pinv_apply(&g.yy, &f.y, BGS_RESIDUAL_RTOL, 0.0);
    &f.x - &g.xy * h_pinv_fy
}

/// `‖d‖` without a box; with one, the norm of the projected step `x − Π_X(x − d)`, which is zero at a
/// constrained stationary point.
fn projected<P: Problem>(problem: &P, x: &OVector<f64, P::N>, d: OVector<f64, P::N>) -> f64
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    match problem.bounds() {
        Some(b) => (x - b.project(&(x - &d))).norm(),
        None => d.norm(),
    }
}

/// The record of `(x, y)`: the objectives, `‖∇y G‖` and the BGS residual there.
pub(crate) fn record<P: Problem>(
    problem: &P,
    x: OVector<f64, P::N>,
    y: OVector<f64, P::M>,
    (iteration, dir_norm): (usize, f64),
    extras: Vec<Extra>,
) -> Record<P::N, P::M>
where
    DefaultAllocator: Alloc<P::N, P::M>,
{
    // One fused call per objective gives every metric.
    let (f, g) = (problem.upper_grad(&x, &y), problem.lower_hess(&x, &y));
    let bgs_residual = direction_of(&f, &g);
    let bgs_residual = projected(problem, &x, bgs_residual);
    let lower_grad_norm = g.grad_y.norm();
    Record {
        iteration,
        upper: f.value,
        lower: g.value,
        lower_grad_norm,
        dir_norm,
        bgs_residual,
        upper_at_solution: None,
        extras,
        x,
        y,
    }
}
