//! The interface every algorithm offers.

use nalgebra::{DefaultAllocator, Dyn, OVector};

use crate::dims::Alloc;
use crate::error::SolveResult;
use crate::matrix_free::{Dense, MatrixFreeProblem};
use crate::problem::Problem;

/// A bilevel algorithm with its options: a value you configure, then run on a problem.
pub trait Algorithm {
    /// The algorithm's name as in docs/algorithms.md, e.g. `itd`, `corrected-itd`, `bda`.
    fn name(&self) -> String;

    /// Its settings as one line, e.g. `T=5 M=0 α=0.2 γ=0.5 K=3000 warm`.
    fn settings(&self) -> String;

    /// Runs from `(x0, y0)` (for DPBG, `y0` is the initialization `z0` of the lower steps) on a problem with
    /// dense blocks. The same run as [`Algorithm::solve_matrix_free`] on [`Dense`]`(problem)`: one implementation
    /// of each update rule, which takes the products at each point from that point's blocks (computed once)
    /// and gives every record the BGS residual by an exact pseudo-inverse; the trace comes back in the problem's
    /// own vector types.
    fn solve<P: Problem>(
        &self,
        problem: &P,
        x0: &OVector<f64, P::N>,
        y0: &OVector<f64, P::M>,
    ) -> SolveResult<P::N, P::M>
    where
        DefaultAllocator: Alloc<P::N, P::M>,
    {
        let (n, m) = problem.dims();
        let run = self.solve_matrix_free(&Dense(problem), x0.as_slice(), y0.as_slice());
        crate::error::with_dims(run, (n, m))
    }

    /// Runs on a problem given by its derivative products: a problem with data, or any [`Problem`] through
    /// [`Dense`]. Unrolled steps are differentiated in reverse over the stored iterates (no `n × m` Jacobian),
    /// the ξ-solvers and GALET's `w` use products only (`pinv` and `adaptive-pinv` take `H` from the problem's
    /// blocks, built from `m` products when it has none), and buffers are allocated once per run. On a problem
    /// without native blocks ([`MatrixFreeProblem::has_blocks`]) the BGS residual is computed by LSQR at the start
    /// and at the final iterate only (NaN in between; see [`bgs_residual`](crate::metrics::bgs_residual)).
    fn solve_matrix_free<P: MatrixFreeProblem>(&self, problem: &P, x0: &[f64], y0: &[f64]) -> SolveResult<Dyn, Dyn>;
}
