//! Runtime of the `bilevel` crate: the [`Problem`] trait that generated code implements, and the algorithms
//! that run on it.
//!
//! Notation follows `REFERENCE.md` of the project: `x ∈ Rⁿ` is the upper-level (leader) variable, `y ∈ Rᵐ` the
//! lower-level (follower) variable, `F(x, y)` the upper objective and `G(x, y)` the lower objective;
//! `H = ∇²yy G` and `B = ∇²xy G` (an `n × m` matrix with `B[i][j] = ∂²G/∂xᵢ∂yⱼ`).
//!
//! Every algorithm is written once, generic over nalgebra dimensions: problems compiled by the `bilevel!` macro
//! use `Const<N>` dimensions, problems evaluated at run time use `Dyn`.
#![warn(missing_docs)]

mod algorithm;
mod bda;
mod bgs;
pub mod data;
mod dims;
mod dpbg;
mod driver;
mod error;
mod export;
mod galet;
mod json;
pub mod linalg;
pub mod math;
pub mod matrix_free;
mod method;
pub mod metrics;
pub mod options;
pub mod parallel;
pub mod plot;
mod problem;
pub mod progress;
pub mod report;
mod trace;
mod upper;
mod xi;

pub use algorithm::Algorithm;
pub use bda::Bda;
pub use bgs::BgsOpt;
pub use dims::Alloc;
pub use dpbg::Dpbg;
pub use driver::{Metrics, Stop};
pub use error::{SolveError, SolveResult};
pub use galet::Galet;
pub use matrix_free::{Dense, MatrixFreeProblem};
pub use method::Method;
pub use problem::{Bounds, Grad, Hess, Problem};
pub use trace::{Extra, Record, Run, Status};
pub use upper::UpperOptimizer;
pub use xi::XiSolver;

pub use nalgebra;
