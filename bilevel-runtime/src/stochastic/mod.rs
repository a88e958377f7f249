//! Stochastic methods: each step reads batches of samples (see [`crate::batch`]), drawn by a seeded sampler, so
//! that a step costs the batch, not the data.

mod sampler;
mod soba;
mod two_loop;

use crate::batch::Sampling;
use crate::error::SolveError;
use crate::trace::Extra;
use crate::MatrixFreeProblem;
use sampler::Sampler;

pub use sampler::{Batches, Draw};
pub use soba::{Estimator, Soba};
pub use two_loop::{Linear, TwoLoop};

/// The number of samples an objective's means run over (0 without a mean over a dim).
fn samples(sampling: &Sampling, level: &str) -> Result<usize, SolveError> {
    match sampling {
        Sampling::None => Ok(0),
        Sampling::Dim { size, .. } => Ok(*size),
        Sampling::Several(dims) => Err(SolveError::Options(format!(
            "{level} takes means over several dims ({}): a stochastic method samples one; write the others as \
             sum(...) / n",
            dims.join(", ")
        ))),
    }
}

/// The samplers of `G`'s and `F`'s samples (streams 0 and 1 of the seed), each with its number of samples (0
/// without a mean over a dim); an objective with means over several dims is an error naming them.
fn samplers<P: MatrixFreeProblem>(problem: &P, batches: &Batches) -> Result<[(Sampler, usize); 2], SolveError> {
    let s = problem.samples();
    let (n_g, n_f) = (samples(&s.lower, "G")?, samples(&s.upper, "F")?);
    Ok([(Sampler::new(n_g, batches, 0), n_g), (Sampler::new(n_f, batches, 1), n_f)])
}

/// The per-sample evaluations so far, as a record's extras: `oracle_grad` (gradients of `G` and `F`) and
/// `oracle_hvp` (products with `∇²G`).
fn counts(grads: f64, hvps: f64) -> Vec<Extra> {
    vec![("oracle_grad".into(), grads), ("oracle_hvp".into(), hvps)]
}
