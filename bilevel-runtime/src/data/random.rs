//! Reproducible numbers for synthetic data and random starts: a linear congruential generator, the same sequence
//! from a seed on every machine and thread count.

/// A seeded linear congruential generator (Knuth's MMIX constants; the top 53 bits of the state make a number).
///
/// ```
/// use bilevel_runtime::data::Lcg;
/// let mut a = Lcg::new(7);
/// let u = a.unit();
/// assert!((0.0..1.0).contains(&u));
/// assert_eq!(Lcg::new(7).unit(), u, "the same seed, the same numbers");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    /// The generator started at `seed`.
    pub fn new(seed: u64) -> Lcg {
        Lcg { state: seed }
    }

    /// The next number, uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next number, uniform in [−1, 1).
    pub fn signed(&mut self) -> f64 {
        self.unit() * 2.0 - 1.0
    }
}

/// `count` numbers uniform in [−1, 1) from `seed`: synthetic features, weights, directions.
///
/// ```
/// let x = bilevel_runtime::data::numbers(1000, 3);
/// assert!(x.iter().all(|v| (-1.0..1.0).contains(v)));
/// assert!(x.iter().sum::<f64>().abs() < 100.0);
/// ```
pub fn numbers(count: usize, seed: u64) -> Vec<f64> {
    let mut lcg = Lcg::new(seed);
    (0..count).map(|_| lcg.signed()).collect()
}
