//! Which samples each step of a stochastic method reads: a seeded sampler of batches.

use crate::batch::Batch;
use crate::data::Lcg;

/// How batches are drawn from `N` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draw {
    /// The samples cut into `⌈N / b⌉` contiguous blocks of `b` (the last may be shorter); an epoch visits every
    /// block once, in order the first time and then in a new random order each epoch (what benchopt's
    /// `benchmark_bilevel` does). Each block is a batch of its own, so a variance-reduced method keeps one memory
    /// per block.
    Shuffled,
    /// `b` samples drawn uniformly with replacement at every step.
    Uniform,
}

impl Draw {
    /// Its name in the tool's options and in settings.
    pub const fn name(self) -> &'static str {
        match self {
            Draw::Shuffled => "shuffled",
            Draw::Uniform => "uniform",
        }
    }
}

/// The batch size, the way batches are drawn and the seed of a stochastic method, one for `F` and one for `G`
/// (seeded differently from `seed`, so their batches are independent).
///
/// ```
/// use bilevel_runtime::stochastic::{Batches, Draw};
/// let s = Batches::default();
/// assert_eq!((s.batch, s.draw, s.seed), (64, Draw::Shuffled, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batches {
    /// Samples per batch `b` (a batch holds all samples when there are fewer).
    pub batch: usize,
    /// How the batches are drawn.
    pub draw: Draw,
    /// The seed: the same seed gives the same batches on every machine and thread count.
    pub seed: u64,
}

impl Default for Batches {
    /// Batches of 64 shuffled contiguous samples, seed 1 (the reference benchmark's defaults).
    fn default() -> Self {
        Batches { batch: 64, draw: Draw::Shuffled, seed: 1 }
    }
}

/// The batches of one objective: its next batch at each step, which block it is, and its share of the samples.
#[derive(Clone, Debug)]
pub(crate) struct Sampler {
    /// The number of samples (0: the objective takes no mean over a dim, and every batch is all of it).
    n: usize,
    size: usize,
    draw: Draw,
    rng: Lcg,
    /// The blocks in the order of the current epoch, and the position in it.
    order: Vec<usize>,
    next: usize,
    /// The samples of the last uniform batch.
    picked: Vec<usize>,
}

/// One batch: what it reads, its length (1 for an objective without a mean over a dim: one evaluation), the
/// block it is (0 for a uniform batch) and its share `|B| / N` of the samples.
pub(crate) struct Drawn<'a> {
    pub batch: Batch<'a>,
    pub len: usize,
    pub block: usize,
    pub weight: f64,
}

impl Drawn<'_> {
    /// Every sample of `n` (0: an objective without a mean over a dim) at once, as one step of a full batch.
    pub fn all(n: usize) -> Drawn<'static> {
        Drawn { batch: Batch::All, len: n.max(1), block: 0, weight: 1.0 }
    }
}

impl Sampler {
    /// The sampler of `n` samples (0 when the objective has no mean over a dim) with `sampling`'s batches, its
    /// random numbers from `stream` (0 for G, 1 for F) of the seed.
    pub fn new(n: usize, sampling: &Batches, stream: u64) -> Sampler {
        let size = sampling.batch.clamp(1, n.max(1));
        let blocks = if n == 0 { 1 } else { n.div_ceil(size) };
        let seed = sampling.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(stream);
        let picked = if sampling.draw == Draw::Uniform { vec![0; size] } else { Vec::new() };
        Sampler { n, size, draw: sampling.draw, rng: Lcg::new(seed), order: (0..blocks).collect(), next: 0, picked }
    }

    /// How many blocks the samples are cut into (the memories a variance-reduced method keeps).
    pub fn blocks(&self) -> usize {
        self.order.len()
    }

    /// The next batch. Allocates nothing.
    pub fn draw(&mut self) -> Drawn<'_> {
        if self.n == 0 {
            return Drawn::all(0);
        }
        match self.draw {
            Draw::Shuffled => {
                if self.next == self.order.len() {
                    shuffle(&mut self.order, &mut self.rng);
                    self.next = 0;
                }
                let block = self.order[self.next];
                self.next += 1;
                let (start, end) = (block * self.size, ((block + 1) * self.size).min(self.n));
                let (len, weight) = (end - start, (end - start) as f64 / self.n as f64);
                Drawn { batch: Batch::Range { start, end }, len, block, weight }
            }
            Draw::Uniform => {
                for p in &mut self.picked {
                    *p = below(&mut self.rng, self.n);
                }
                let weight = self.size as f64 / self.n as f64;
                Drawn { batch: Batch::Indices(&self.picked), len: self.size, block: 0, weight }
            }
        }
    }
}

/// A number uniform in `0..n`.
fn below(rng: &mut Lcg, n: usize) -> usize {
    ((rng.unit() * n as f64) as usize).min(n - 1)
}

/// Fisher–Yates.
fn shuffle(order: &mut [usize], rng: &mut Lcg) {
    for i in (1..order.len()).rev() {
        order.swap(i, below(rng, i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_of_shuffled_blocks_visits_every_sample_once() {
        let mut s = Sampler::new(10, &Batches { batch: 4, ..Batches::default() }, 0);
        assert_eq!(s.blocks(), 3);
        let mut epochs = Vec::new();
        for _ in 0..3 {
            let mut seen = Vec::new();
            let mut weights = 0.0;
            for _ in 0..3 {
                let d = s.draw();
                let Batch::Range { start, end } = d.batch else { panic!("contiguous batches") };
                seen.extend(start..end);
                weights += d.weight;
                assert_eq!(d.block, start / 4);
            }
            epochs.push(seen.clone());
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
            assert!((weights - 1.0).abs() < 1e-15);
        }
        assert_eq!(epochs[0], (0..10).collect::<Vec<_>>(), "the first epoch in order");
        assert!(epochs[1] != epochs[0] || epochs[2] != epochs[0], "later epochs shuffled");
    }

    #[test]
    fn uniform_batches_are_reproducible_and_in_range() {
        let sampling = Batches { batch: 5, draw: Draw::Uniform, seed: 9 };
        let (mut a, mut b) = (Sampler::new(7, &sampling, 0), Sampler::new(7, &sampling, 0));
        let mut other = Sampler::new(7, &sampling, 1);
        let mut differs = false;
        for _ in 0..20 {
            let (da, db) = (a.draw(), b.draw());
            assert_eq!(da.batch, db.batch);
            let Batch::Indices(ix) = da.batch else { panic!("a list of samples") };
            assert!(ix.len() == 5 && ix.iter().all(|i| *i < 7));
            differs |= other.draw().batch != da.batch;
        }
        assert!(differs, "the streams of F and G differ");
        // Without a mean over a dim, every batch is the whole objective.
        assert_eq!(Sampler::new(0, &sampling, 0).draw().batch, Batch::All);
    }
}
