//! The [`MatrixFreeProblem`] trait: a problem that gives derivative *products* instead of dense blocks.

use nalgebra::{DVector, Dyn};

use crate::problem::Bounds;

mod bda;
mod bgs;
mod dense;
mod dpbg;
mod driver;
mod galet;
pub(crate) mod krylov;
mod lower;
mod unroll;
pub(crate) mod vector;

pub use dense::Dense;
pub use driver::{bgs_residual, BGS_RESIDUAL_ITERS};
pub(crate) use lower::with_auto_lower_step;
pub use lower::{lower_lipschitz, safe_lower_step, solve_lower, upper_at_solution, LowerSolve};
pub(crate) use lower::{step_from_curvature, step_warning};

/// A bilevel problem whose sizes are known at run time and whose second derivatives are only ever applied to a
/// vector: the gradients of `F` and `G` and their Hessian–vector products.
///
/// The `bilevel!` macro implements it for problems with `dim` and `data`: each method is a few loops over the
/// data whose code does not depend on the data's size, and each product costs a small multiple of a gradient.
/// Vectors are slices; the upper variable `x` has length `n` and the lower variable `y` length `m`
/// ([`MatrixFreeProblem::dims`]); a matrix variable is stored row by row. Every method panics with a clear
/// message if a slice has the wrong length.
pub trait MatrixFreeProblem {
    /// The problem's name, as written after `problem`.
    fn name(&self) -> &str;
    /// The dimensions `(n, m)`, as bound by the data.
    fn dims(&self) -> (usize, usize);
    /// The start point `(x₀, y₀)` declared by `start` (zero where not declared).
    fn start(&self) -> (DVector<f64>, DVector<f64>);
    /// The box on `x`, if one was declared.
    fn bounds(&self) -> Option<Bounds<Dyn>>;

    /// `F(x, y)`.
    fn upper(&self, x: &[f64], y: &[f64]) -> f64;
    /// `G(x, y)`.
    fn lower(&self, x: &[f64], y: &[f64]) -> f64;
    /// Writes `∇x F` into `gx` and `∇y F` into `gy`; returns `F`.
    fn upper_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64;
    /// Writes `∇x G` into `gx` and `∇y G` into `gy`; returns `G`.
    fn lower_grad(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64;
    /// For a direction `v` in the space of `y`: writes `∇²xy F·v` (length n) into `hx` and `∇²yy F·v` into `hy`.
    fn upper_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]);
    /// For a direction `u` in the space of `x`: writes `∇²xx F·u` into `hx` and `∇²yx F·u` (length m) into `hy`.
    fn upper_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]);
    /// For a direction `v` in the space of `y`: writes `B·v = ∇²xy G·v` into `hx` and `H·v = ∇²yy G·v` into `hy`.
    fn lower_hvp_y(&self, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]);
    /// For a direction `u` in the space of `x`: writes `∇²xx G·u` into `hx` and `Bᵀ·u = ∇²yx G·u` into `hy`.
    fn lower_hvp_x(&self, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]);
}
