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

/// The start `(x0, y0)` followed by `k` random starts drawn from `seed`: each component of x uniform in the box
/// where both its ends are finite, `x0 ± range` where they are not; y uniform in `y0 ± range`. The same seed gives
/// the same starts on every machine (what `bilevel sweep --starts` and the Python package's `sweep` run).
///
/// ```
/// use bilevel_runtime::data::random_starts;
/// let box_ = (vec![0.0], vec![4.0]);
/// let starts = random_starts((&[1.0], &[0.0, 0.0]), Some((&box_.0, &box_.1)), 3, 7, 10.0);
/// assert_eq!(starts.len(), 4);
/// assert_eq!(starts[0], (vec![1.0], vec![0.0, 0.0]));
/// assert!(starts[1..].iter().all(|(x, y)| (0.0..4.0).contains(&x[0]) && y.iter().all(|v| v.abs() < 10.0)));
/// assert_eq!(starts, random_starts((&[1.0], &[0.0, 0.0]), Some((&box_.0, &box_.1)), 3, 7, 10.0));
/// ```
pub fn random_starts(
    (x0, y0): (&[f64], &[f64]),
    bounds: Option<(&[f64], &[f64])>,
    k: usize,
    seed: u64,
    range: f64,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut lcg = Lcg::new(seed.wrapping_mul(0x9E3779B97F4A7C15).wrapping_add(1));
    let mut out = vec![(x0.to_vec(), y0.to_vec())];
    for _ in 0..k {
        let x = x0
            .iter()
            .enumerate()
            .map(|(i, &v)| match bounds {
                Some((lo, hi)) if lo[i].is_finite() && hi[i].is_finite() => lo[i] + (hi[i] - lo[i]) * lcg.unit(),
                _ => v + range * lcg.signed(),
            })
            .collect();
        let y = y0.iter().map(|&v| v + range * lcg.signed()).collect();
        out.push((x, y));
    }
    out
}
