//! Stochastic methods: each step reads batches of samples (see [`crate::batch`]), drawn by a seeded sampler, so
//! that a step costs the batch, not the data.

mod sampler;
mod soba;
mod two_loop;

pub use sampler::{Batches, Draw};
pub use soba::{Estimator, Soba};
pub use two_loop::{Linear, TwoLoop};
