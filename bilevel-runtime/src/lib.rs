//! Runtime of the `bilevel` crate: the traits that generated code implements ([`Problem`], dense blocks of a
//! problem of fixed size; [`MatrixFreeProblem`], derivative products), and the algorithms that run on them.
//!
//! Notation follows `docs/algorithms.md` of the project: `x ∈ Rⁿ` is the upper-level (leader) variable, `y ∈ Rᵐ` the
//! lower-level (follower) variable, `F(x, y)` the upper objective and `G(x, y)` the lower objective;
//! `H = ∇²yy G` and `B = ∇²xy G` (an `n × m` matrix with `B[i][j] = ∂²G/∂xᵢ∂yⱼ`).
//!
//! Every algorithm is written once, over derivative products ([`MatrixFreeProblem`]), in one file each (`bgs.rs`,
//! `bda.rs`, `galet.rs`, `dpbg.rs`), with one driver for the loop, faults, records and clock (`driver.rs`), one set
//! of ξ-solvers (`xi.rs`) and one BGS residual (`metrics.rs`); [`Algorithm::solve`] runs any problem. Every
//! [`Problem`] is a [`MatrixFreeProblem`] whose blocks are a native capability: the algorithms take a point's
//! products from its blocks where the point gets several, and the BGS residual from an exact pseudo-inverse.
#![warn(missing_docs)]

mod algorithm;
pub mod batch;
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
pub mod report;
pub mod scratch;
pub mod stochastic;
mod trace;
mod upper;
mod xi;

pub use algorithm::{Algorithm, Entries};
pub use batch::{Batch, Samples, Sampling};
pub use bda::Bda;
pub use bgs::BgsOpt;
pub use dims::Alloc;
pub use dpbg::Dpbg;
pub use driver::{Metrics, Stop};
pub use error::{SolveError, SolveResult};
pub use galet::Galet;
pub use matrix_free::MatrixFreeProblem;
pub use method::Method;
pub use problem::{Bounds, Grad, Hess, Problem};
pub use stochastic::{Soba, TwoLoop};
pub use trace::{Extra, Record, Run, Status};
pub use upper::UpperOptimizer;
pub use xi::XiSolver;

pub use nalgebra;
