//! No heap allocation inside the iterations: with `Metrics::End` (the trace keeps the start and the end), a run
//! of 2K outer iterations allocates exactly as often as a run of K, counted by a global allocator. Matrix-free
//! runs on two data problems (one whose loops keep arrays) with enough samples for their loops to run in parallel
//! chunks, on one thread and on two;
//! dense runs on a fixed-size problem (every ξ-solver, the pseudo-inverses included: their Jacobi
//! eigendecomposition works on fixed-size matrices).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use bilevel::data::Array;
use bilevel::nalgebra::{Vector2, Vector3};
use bilevel::{
    bilevel, Algorithm, Bda, BgsOpt, Dpbg, Galet, MatrixFreeProblem, Method, Metrics, UpperOptimizer, XiSolver,
};
use common::logistic::{LogisticRegression, LogisticRegressionData};
use common::numbers;

/// The system allocator, counting the allocations of the threads that ask for it (the test's own and its thread
/// pool's, not the test harness's, which allocates when another test finishes).
struct Counting;

/// One count per test (index 0 is not counted): a pool thread of one test that is still winding down never adds
/// to the other's count.
static ALLOCATIONS: [AtomicUsize; 3] = [const { AtomicUsize::new(0) }; 3];
const MATRIX_FREE: usize = 1;
const DENSE: usize = 2;

thread_local! {
    static COUNTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn count() {
    let test = COUNTED.try_with(|c| c.get()).unwrap_or(0);
    if test > 0 {
        ALLOCATIONS[test].fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests of this file take turns (each still counts only its own threads).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

bilevel! {
    /// A small fixed-size problem (straight-line code, dense blocks on the stack).
    problem Small {
        upper x: real[2];
        lower y: real[3];
        minimize lower: 0.5 * norm2(y - [x[0], x[1], x[0] * x[1]]) + 0.1 * sum(i in 0..3: y[i]^4);
        minimize upper: norm2(y - [1, 2, 0.5]) + 0.05 * norm2(x);
    }
}

/// The README's logistic regression on 2048 training samples (two parallel chunks) of four features, validated
/// on the same samples.
fn problem() -> LogisticRegression {
    let (rows, cols) = (2048, 4);
    let x = Array::matrix(rows, cols, numbers(rows * cols, 1)).unwrap();
    let t = Array::vector(numbers(rows, 2).iter().map(|v| v.signum()).collect());
    LogisticRegression::new(LogisticRegressionData { X: x.clone(), t: t.clone(), Xv: x, tv: t }).unwrap()
}

bilevel! {
    /// Data hyper-cleaning (`tests/bl/hyper_cleaning.bl`, whose loops keep each sample's logits in arrays) with a
    /// stronger ridge term, so that the final metrics' lower-level solve is short.
    problem HyperCleaning {
        dim N, Nv, p, C;
        data X: real[N, p];
        data Y: real[N, C];
        data Xv: real[Nv, p];
        data Yv: real[Nv, C];
        upper s: real[N];
        lower W: real[p, C];
        minimize lower: mean(i in 0..N: -sigmoid(s[i]) * dot(Y[i], log_softmax(X[i] * W))) + 0.5 * norm2(W);
        minimize upper: mean(i in 0..Nv: -dot(Yv[i], log_softmax(Xv[i] * W)));
    }
}

/// Hyper-cleaning on 2048 samples of three features in two classes (two parallel chunks), validated on 1024.
fn cleaning() -> HyperCleaning {
    let (n, nv, p, c) = (2048, 1024, 3, 2);
    let one_hot = |rows: usize, seed| {
        let labels = numbers(rows, seed);
        Array::matrix(rows, c, labels.iter().flat_map(|v| if *v > 0.0 { [1.0, 0.0] } else { [0.0, 1.0] }).collect())
            .unwrap()
    };
    HyperCleaning::new(HyperCleaningData {
        X: Array::matrix(n, p, numbers(n * p, 3)).unwrap(),
        Y: one_hot(n, 4),
        Xv: Array::matrix(nv, p, numbers(nv * p, 5)).unwrap(),
        Yv: one_hot(nv, 6),
    })
    .unwrap()
}

/// Every algorithm with `iters` outer iterations and only the start and the end in the trace.
fn methods(iters: usize) -> Vec<Method> {
    let bgs =
        |b: BgsOpt| Method::from(BgsOpt { outer_iters: iters, lower_step: Some(0.5), metrics: Metrics::End, ..b });
    vec![
        bgs(BgsOpt::itd(3)),
        bgs(BgsOpt::rhg(3)),
        bgs(BgsOpt::truncated_itd(2, 2)),
        bgs(BgsOpt::corrected_itd(2, XiSolver::ZCg { iters: 3 })),
        bgs(BgsOpt::corrected_itd(2, XiSolver::Gd { step: 0.5 })),
        bgs(BgsOpt::corrected_itd(2, XiSolver::Cg { iters: 3 })),
        bgs(BgsOpt::corrected_itd(2, XiSolver::Lsqr { iters: 3 })),
        bgs(BgsOpt { upper_optimizer: UpperOptimizer::ADAM, ..BgsOpt::aid(3, XiSolver::Cg { iters: 3 }) }),
        bgs(BgsOpt { upper_optimizer: UpperOptimizer::Momentum { beta: 0.5 }, ..BgsOpt::itd(2) }),
        Method::from(Bda { outer_iters: iters, inner_iters: 3, metrics: Metrics::End, ..Bda::default() }),
        Method::from(Galet { outer_iters: iters, r_y_steps: 2, metrics: Metrics::End, ..Galet::default() }),
        Method::from(Dpbg { iters, lower_iters: 3, metrics: Metrics::End, ..Dpbg::default() }),
    ]
}

/// The methods of [`methods`] run on hyper-cleaning too: corrected ITD with `cg` (gradients and `H v`), BDA (both
/// objectives' products) and GALET (`Bᵀ u` for its `w`).
const CLEANING: [usize; 3] = [5, 9, 10];

/// The allocations of one run from `x = 0.1`, `y = 0`.
fn allocations<P: MatrixFreeProblem>(problem: &P, method: &Method) -> usize {
    let (n, m) = problem.dims();
    let before = ALLOCATIONS[MATRIX_FREE].load(Ordering::SeqCst);
    let run = method.solve(problem, &vec![0.1; n], &vec![0.0; m]).expect("the run succeeds");
    let count = ALLOCATIONS[MATRIX_FREE].load(Ordering::SeqCst) - before;
    assert_eq!(run.trace.len(), 2, "{}: the trace keeps the start and the end", method.name());
    count
}

#[test]
fn iterations_allocate_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(MATRIX_FREE));
    let (logistic, cleaning) = (problem(), cleaning());
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .start_handler(|_| COUNTED.with(|c| c.set(MATRIX_FREE)))
            .build()
            .unwrap();
        pool.install(|| {
            let (short, long) = (methods(4), methods(8));
            // The threads' buffers for parallel chunks and scratch arrays, once.
            allocations(&logistic, &short[0]);
            allocations(&cleaning, &short[0]);
            for (i, (a, b)) in short.iter().zip(&long).enumerate() {
                let mut counts = vec![("logistic", allocations(&logistic, a), allocations(&logistic, b))];
                // Hyper-cleaning (slow in a debug build) with the methods that call every kind of product.
                if CLEANING.contains(&i) {
                    counts.push(("cleaning", allocations(&cleaning, a), allocations(&cleaning, b)));
                }
                for (name, k, two_k) in counts {
                    let more = two_k as i64 - k as i64;
                    assert_eq!(
                        k,
                        two_k,
                        "{} on {name}, {threads} threads: 4 more iterations allocated {more} times",
                        a.name()
                    );
                }
            }
        });
    }
}

#[test]
fn dense_iterations_on_a_fixed_size_problem_allocate_nothing() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(DENSE));
    let (x0, y0) = (Vector2::new(0.1, 0.2), Vector3::zeros());
    let count = |m: &Method| {
        let before = ALLOCATIONS[DENSE].load(Ordering::SeqCst);
        let run = m.solve(&Small, &x0, &y0).expect("the run succeeds");
        assert_eq!(run.trace.len(), 2);
        ALLOCATIONS[DENSE].load(Ordering::SeqCst) - before
    };
    let with_pinv = |k: usize| {
        let pinv = |x: XiSolver| BgsOpt {
            outer_iters: k,
            lower_step: Some(0.5),
            metrics: Metrics::End,
            ..BgsOpt::corrected_itd(2, x)
        };
        let mut all = methods(k);
        all.extend([pinv(XiSolver::PINV), pinv(XiSolver::ADAPTIVE_PINV)].map(Method::from));
        all
    };
    for (a, b) in with_pinv(4).iter().zip(&with_pinv(8)) {
        let (k, two_k) = (count(a), count(b));
        assert_eq!(
            k,
            two_k,
            "{} ({}): 4 more iterations allocated {} more times",
            a.name(),
            a.settings(),
            two_k as i64 - k as i64
        );
    }
}
