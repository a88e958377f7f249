//! Loops over samples split across threads (rayon) with results that do not depend on the number of threads.

use std::ops::Range;

use rayon::prelude::*;

/// The fewest iterations a chunk has: below twice this a loop runs on the calling thread.
pub const MIN_CHUNK: usize = 1024;
/// The most chunks a loop is split into, so that the partial results stay small.
pub const MAX_CHUNKS: usize = 16;

/// The chunk size for a loop of `len` iterations: a function of `len` only, never of the thread count.
pub fn chunk_size(len: usize) -> usize {
    MIN_CHUNK.max(len.div_ceil(MAX_CHUNKS))
}

/// Runs `body` over `0..len` in chunks of [`chunk_size`]`(len)`, each accumulating into its own zeroed `value`,
/// `a` and `b`, on as many threads as rayon gives, then adds the partial results to `value`, `a` and `b` in chunk
/// order. The chunks and the order of the sums are fixed by `len`, so the result is the same, bit for bit, with
/// one thread or many. A loop of one chunk runs directly on the outputs, without allocating.
///
/// The generated `MatrixFreeProblem` methods call it for their loops over samples.
///
/// ```
/// use bilevel_runtime::parallel::accumulate;
/// let (mut total, mut counts, mut squares) = (0.0, vec![0.0; 2], vec![0.0; 1]);
/// accumulate(10_000, &mut total, &mut counts, &mut squares, |range, total, counts, squares| {
///     for i in range {
///         *total += i as f64;
///         counts[i % 2] += 1.0;
///         squares[0] += (i * i) as f64;
///     }
/// });
/// assert_eq!((total, counts), (49_995_000.0, vec![5000.0, 5000.0]));
/// ```
#[inline]
pub fn accumulate<F>(len: usize, value: &mut f64, a: &mut [f64], b: &mut [f64], body: F)
where
    F: Fn(Range<usize>, &mut f64, &mut [f64], &mut [f64]) + Sync,
{
    let size = chunk_size(len);
    let chunks = len.div_ceil(size);
    if chunks <= 1 {
        return body(0..len, value, a, b);
    }
    let (na, nb) = (a.len(), b.len());
    let chunk = |c: usize| {
        let (mut v, mut pa, mut pb) = (0.0, vec![0.0; na], vec![0.0; nb]);
        body(c * size..len.min((c + 1) * size), &mut v, &mut pa, &mut pb);
        (v, pa, pb)
    };
    // On one thread the chunks run in a plain loop (where the compiler can inline the body), with the same
    // chunks and the same order of the sums as on many.
    let partials: Vec<(f64, Vec<f64>, Vec<f64>)> = if rayon::current_num_threads() == 1 {
        (0..chunks).map(chunk).collect()
    } else {
        (0..chunks).into_par_iter().map(chunk).collect()
    };
    for (v, pa, pb) in partials {
        *value += v;
        a.iter_mut().zip(&pa).for_each(|(o, p)| *o += p);
        b.iter_mut().zip(&pb).for_each(|(o, p)| *o += p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (mut v, mut a, mut b) = (0.0, vec![0.0; 3], vec![0.0; 1]);
                accumulate(100_003, &mut v, &mut a, &mut b, |range, v, a, b| {
                    for i in range {
                        let x = (i as f64 * 0.37).sin();
                        *v += x;
                        a[i % 3] += x * x;
                        b[0] += 1.0 / (1.0 + i as f64);
                    }
                });
                (v, a, b)
            })
        };
        assert_eq!(run(1), run(2));
        assert_eq!(run(1), run(3));
        assert_eq!(chunk_size(100_003), 6251);
    }
}
