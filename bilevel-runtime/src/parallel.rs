//! Loops over samples split across threads (rayon) with results that do not depend on the number of threads.

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

/// The fewest iterations a chunk has: below twice this a loop runs on the calling thread.
pub const MIN_CHUNK: usize = 1024;
/// The most chunks a loop is split into, so that the partial results stay small.
pub const MAX_CHUNKS: usize = 16;

/// The chunk size for a loop of `len` iterations accumulating into `outputs` numbers: a function of these
/// sizes only, never of the thread count. Each chunk zeroes and adds its own copy of the outputs, so a loop
/// with wide outputs (a sparse problem with 10⁵ features) gets fewer chunks: at most `4·len / outputs`, which
/// keeps that overhead below the loop's own work of at least one operation per iteration and output read.
pub fn chunk_size(len: usize, outputs: usize) -> usize {
    let chunks = MAX_CHUNKS.min((4 * len / outputs.max(1)).max(1));
    MIN_CHUNK.max(len.div_ceil(chunks))
}

/// The partial results of one chunk.
#[derive(Default)]
struct Partial {
    value: f64,
    a: Vec<f64>,
    b: Vec<f64>,
}

thread_local! {
    /// The partial results of the calling thread's last loop, kept so that the next loop does not allocate.
    static PARTIALS: RefCell<Vec<Partial>> = const { RefCell::new(Vec::new()) };
}

/// Runs `body` over `0..len` in chunks of [`chunk_size`]`(len, a.len() + b.len())`, each accumulating into its
/// own zeroed `value`, `a` and `b`, on as many threads as rayon gives, then adds the partial results to `value`,
/// `a` and `b` in chunk order. The chunks and the order of the sums are fixed by the sizes, so the result is the
/// same, bit for bit, with one thread or many. A loop of one chunk runs directly on the outputs. The partial
/// results live in buffers of the calling thread reused from call to call: after the first call, a loop of the
/// same sizes allocates nothing.
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
    let size = chunk_size(len, a.len() + b.len());
    let chunks = len.div_ceil(size);
    if chunks <= 1 {
        return body(0..len, value, a, b);
    }
    // Taken out of the thread's store while in use (a nested loop would get fresh buffers).
    let mut partials = PARTIALS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    partials.resize_with(chunks, Partial::default);
    for p in &mut partials {
        p.value = 0.0;
        reset(&mut p.a, a.len());
        reset(&mut p.b, b.len());
    }
    let chunk =
        |(c, p): (usize, &mut Partial)| body(c * size..len.min((c + 1) * size), &mut p.value, &mut p.a, &mut p.b);
    // On one thread the chunks run in a plain loop (where the compiler can inline the body), with the same
    // chunks and the same order of the sums as on many.
    if rayon::current_num_threads() == 1 {
        partials.iter_mut().enumerate().for_each(chunk);
    } else {
        partials.par_iter_mut().enumerate().for_each(chunk);
    }
    for p in &partials {
        *value += p.value;
        a.iter_mut().zip(&p.a).for_each(|(o, x)| *o += x);
        b.iter_mut().zip(&p.b).for_each(|(o, x)| *o += x);
    }
    PARTIALS.with(|p| *p.borrow_mut() = partials);
}

/// `v` as `len` zeros, reusing its memory.
fn reset(v: &mut Vec<f64>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
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
        assert_eq!(chunk_size(100_003, 4), 6251);
        // Wide outputs: fewer chunks (here two), whatever the thread count.
        assert_eq!(100_000usize.div_ceil(chunk_size(100_000, 200_000)), 2);
    }
}
