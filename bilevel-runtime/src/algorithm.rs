//! The interface every algorithm offers.

use nalgebra::{DefaultAllocator, OVector};

use crate::dims::Alloc;
use crate::error::SolveResult;
use crate::problem::Problem;

/// A bilevel algorithm with its options: a value you configure, then run on a problem.
pub trait Algorithm {
    /// The algorithm's name as in REFERENCE.md, e.g. `itd`, `corrected-itd`, `bda`.
    fn name(&self) -> String;

    /// Its settings as one line, e.g. `T=5 M=0 α=0.2 γ=0.5 K=3000 warm`.
    fn settings(&self) -> String;

    /// Runs from `(x0, y0)` (for DPBG, `y0` is the initialization `z0` of the lower steps).
    fn solve<P: Problem>(
        &self,
        problem: &P,
        x0: &OVector<f64, P::N>,
        y0: &OVector<f64, P::M>,
    ) -> SolveResult<P::N, P::M>
    where
        DefaultAllocator: Alloc<P::N, P::M>;
}
