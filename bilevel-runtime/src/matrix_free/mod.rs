//! The [`MatrixFreeProblem`] trait, what every algorithm runs on: a problem given by its derivative *products*,
//! with dense blocks as an optional capability (native for every [`Problem`](crate::Problem)); and the pieces the algorithms
//! share (the curvature at the points of a run, the lower steps and their reverse sweep, Krylov solvers, the
//! lower-level solve and `L_G`).

use nalgebra::{DVector, Dyn};

use crate::batch::{Batch, Samples};
use crate::problem::Bounds;

pub(crate) mod curvature;
mod fixed_size;
pub(crate) mod krylov;
pub(crate) mod lower;
pub(crate) mod unroll;
pub(crate) mod vector;

pub use vector::Vector;

pub(crate) use lower::step_warning;
pub use lower::{lower_lipschitz, safe_lower_step, solve_lower, upper_at_solution, LowerSolve};
pub(crate) use lower::{with_lower_step, LowerStep};

/// A bilevel problem whose sizes are known at run time and whose second derivatives are only ever applied to a
/// vector: the gradients of `F` and `G` and their Hessian–vector products.
///
/// The `bilevel!` macro implements it for problems with `dim` and `data`: each method is a few loops over the
/// data whose code does not depend on the data's size, and each product costs a small multiple of a gradient.
/// Vectors are slices; the upper variable `x` has length `n` and the lower variable `y` length `m`
/// ([`MatrixFreeProblem::dims`]); a matrix variable is stored row by row. Every method panics with a clear
/// message if a slice has the wrong length.
pub trait MatrixFreeProblem {
    /// What the algorithms keep vectors of the space of `x` in: `Vec<f64>` for problems with data; fixed-size
    /// vectors for problems of fixed size (every [`Problem`](crate::Problem)), so that the algorithms' own vector operations are
    /// compiled for their length.
    type X: Vector;
    /// The same for the space of `y`.
    type Y: Vector;
    /// What the algorithms keep an `m × m` matrix in (`H`, the Jacobian `J_y` of the forward recursion): as `X`,
    /// `Vec<f64>` or a fixed-size matrix.
    type YY: Vector;
    /// What they keep an `n × m` matrix in (`B`, the Jacobian `J_x`).
    type XY: Vector;

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

    /// Which `dim` each objective's `mean`s run over: what the `_batch` methods restrict to a [`Batch`]
    /// ([`crate::batch`]). The default, for problems without means over a `dim` (every problem of fixed size), is
    /// [`Samples::NONE`], and there the `_batch` methods are the full ones.
    fn samples(&self) -> Samples {
        Samples::NONE
    }
    /// [`upper`](Self::upper) with `F`'s means over its sample dim taken over `batch`.
    fn upper_batch(&self, batch: Batch, x: &[f64], y: &[f64]) -> f64 {
        let _ = batch;
        self.upper(x, y)
    }
    /// [`lower`](Self::lower) with `G`'s means over its sample dim taken over `batch`.
    fn lower_batch(&self, batch: Batch, x: &[f64], y: &[f64]) -> f64 {
        let _ = batch;
        self.lower(x, y)
    }
    /// [`upper_grad`](Self::upper_grad) on `batch`.
    fn upper_grad_batch(&self, batch: Batch, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let _ = batch;
        self.upper_grad(x, y, gx, gy)
    }
    /// [`lower_grad`](Self::lower_grad) on `batch`.
    fn lower_grad_batch(&self, batch: Batch, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        let _ = batch;
        self.lower_grad(x, y, gx, gy)
    }
    /// [`upper_hvp_y`](Self::upper_hvp_y) on `batch`.
    fn upper_hvp_y_batch(&self, batch: Batch, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let _ = batch;
        self.upper_hvp_y(x, y, v, hx, hy)
    }
    /// [`upper_hvp_x`](Self::upper_hvp_x) on `batch`.
    fn upper_hvp_x_batch(&self, batch: Batch, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let _ = batch;
        self.upper_hvp_x(x, y, u, hx, hy)
    }
    /// [`lower_hvp_y`](Self::lower_hvp_y) on `batch`: `B·v` and `H·v` of `G` on the batch.
    fn lower_hvp_y_batch(&self, batch: Batch, x: &[f64], y: &[f64], v: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let _ = batch;
        self.lower_hvp_y(x, y, v, hx, hy)
    }
    /// [`lower_hvp_x`](Self::lower_hvp_x) on `batch`: `∇²xx G·u` and `Bᵀ·u` of `G` on the batch.
    fn lower_hvp_x_batch(&self, batch: Batch, x: &[f64], y: &[f64], u: &[f64], hx: &mut [f64], hy: &mut [f64]) {
        let _ = batch;
        self.lower_hvp_x(x, y, u, hx, hy)
    }

    /// Whether [`lower_blocks`](Self::lower_blocks) and [`upper_blocks`](Self::upper_blocks) are native: the
    /// problem computes its dense second-derivative blocks in one fused call, as problems without data do
    /// (every [`Problem`](crate::Problem)). The algorithms then take every product at a point from that point's blocks, computed once,
    /// differentiate unrolled steps by the forward Jacobian recursion when the Jacobians are small (at most 16
    /// rows), and compute the BGS residual of every record by an exact pseudo-inverse. The default, `false`, is right for
    /// problems with data, whose blocks would cost `m` products.
    fn has_blocks(&self) -> bool {
        false
    }

    /// Writes `∇x G` into `gx`, `∇y G` into `gy`, `H = ∇²yy G` (`m × m`) into `h` and `B = ∇²xy G` (`n × m`) into
    /// `b`, both column by column; returns `G`. The default builds the blocks from `m` products `(B e_j, H e_j)`
    /// (what the `pinv` ξ-solver does on a problem with data); problems with [`has_blocks`](Self::has_blocks)
    /// compute them directly.
    fn lower_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        from_products(self.dims(), |v, bv, hv| self.lower_hvp_y(x, y, v, bv, hv), gy, (h, b));
        self.lower_grad(x, y, gx, gy)
    }

    /// [`lower_blocks`](Self::lower_blocks) for `F`: `∇x F`, `∇y F`, `∇²yy F` and `∇²xy F`; returns `F`.
    fn upper_blocks(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64], h: &mut [f64], b: &mut [f64]) -> f64 {
        from_products(self.dims(), |v, bv, hv| self.upper_hvp_y(x, y, v, bv, hv), gy, (h, b));
        self.upper_grad(x, y, gx, gy)
    }
}

/// The blocks `H` (`m × m`) and `B` (`n × m`), column by column, from the `m` products `(B e_j, H e_j)` of
/// `product(v, B v, H v)`; `unit` (length m) is scratch for `e_j`.
pub(crate) fn from_products(
    (n, m): (usize, usize),
    mut product: impl FnMut(&[f64], &mut [f64], &mut [f64]),
    unit: &mut [f64],
    (h, b): (&mut [f64], &mut [f64]),
) {
    for j in 0..m {
        unit.iter_mut().enumerate().for_each(|(i, c)| *c = f64::from(i == j));
        product(unit, &mut b[j * n..(j + 1) * n], &mut h[j * m..(j + 1) * m]);
    }
}
