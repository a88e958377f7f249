//! Evaluations on a batch of samples: what the stochastic methods ask of a problem whose objectives are means
//! over a sample `dim` (`mean(i in 0..N: …)`).
//!
//! Every derivative method of [`MatrixFreeProblem`](crate::MatrixFreeProblem) has a `_batch` twin taking a
//! [`Batch`]: the same value or product with each `mean` over the objective's sample dim taken over the batch's
//! samples only (the sum over the batch divided by its length), and every other term (a regularizer outside the
//! mean, a `sum`) as it is. Its cost is the batch's, not the data's. [`Sampling`] says which dim an objective's
//! means run over.

/// The samples an evaluation takes its `mean`s over.
///
/// ```
/// use bilevel_runtime::Batch;
/// let picked = [4, 1, 1];
/// assert_eq!(Batch::All.samples("P", "N", 10), 10);
/// assert_eq!(Batch::Range { start: 2, end: 5 }.at(0), 2);
/// let b = Batch::Indices(&picked);
/// assert_eq!((b.samples("P", "N", 10), b.at(2)), (3, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch<'a> {
    /// Every sample: the full evaluation.
    All,
    /// The samples `start..end` (`end` excluded).
    Range {
        /// The first sample.
        start: usize,
        /// One past the last.
        end: usize,
    },
    /// These samples, in this order; a sample listed twice counts twice (sampling with replacement).
    Indices(&'a [usize]),
}

impl Batch<'_> {
    /// The sample at position `t` of the batch.
    #[inline]
    pub fn at(&self, t: usize) -> usize {
        match self {
            Batch::All => t,
            Batch::Range { start, .. } => start + t,
            Batch::Indices(ix) => ix[t],
        }
    }

    /// The number of samples of the batch, out of the `n` samples of `dim`; panics with a clear message (naming
    /// `problem` and `dim`) when the batch is empty or reaches past the last sample. The generated `_batch`
    /// methods call it first.
    #[track_caller]
    pub fn samples(&self, problem: &str, dim: &str, n: usize) -> usize {
        let len = match *self {
            Batch::All => n,
            Batch::Range { start, end } => {
                assert!(
                    start < end && end <= n,
                    "{problem}: the batch {start}..{end} is not a range of samples in 0..{dim} = 0..{n}"
                );
                end - start
            }
            Batch::Indices(ix) => {
                if let Some(bad) = ix.iter().find(|i| **i >= n) {
                    panic!("{problem}: the batch has sample {bad}, but {dim} = {n}");
                }
                ix.len()
            }
        };
        assert!(len > 0, "{problem}: a batch needs at least one sample");
        len
    }
}

/// Which samples an objective's `mean`s run over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// No mean over a `dim`: a batch changes nothing (every problem of fixed size).
    None,
    /// The means over this `dim`, of this size, are what a batch restricts.
    Dim {
        /// The dim's name, as declared.
        name: String,
        /// Its size, as bound by the data.
        size: usize,
    },
    /// Means over several dims: no batch restricts them (a stochastic method refuses the problem).
    Several(Vec<String>),
}

/// The [`Sampling`] of both objectives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Samples {
    /// `F`'s.
    pub upper: Sampling,
    /// `G`'s.
    pub lower: Sampling,
}

impl Samples {
    /// Neither objective takes a mean over a `dim`.
    pub const NONE: Samples = Samples { upper: Sampling::None, lower: Sampling::None };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "P: the batch has sample 10, but N = 10")]
    fn a_sample_past_the_end_is_named() {
        Batch::Indices(&[3, 10]).samples("P", "N", 10);
    }

    #[test]
    #[should_panic(expected = "P: the batch 4..12 is not a range of samples in 0..N = 0..10")]
    fn a_range_past_the_end_is_named() {
        Batch::Range { start: 4, end: 12 }.samples("P", "N", 10);
    }

    #[test]
    #[should_panic(expected = "P: a batch needs at least one sample")]
    fn an_empty_batch_is_refused() {
        Batch::Indices(&[]).samples("P", "N", 10);
    }
}
