//! Scale: one outer iteration of corrected ITD on the README's logistic regression with N = 10⁵ training samples
//! and p = 100 features (synthetic data), on one and on two threads. The time per iteration is the run's own
//! (`Run::seconds`: the metrics of the start and the end are not counted), the median of three runs of 20
//! iterations keeping only the start and the end (`Metrics::End`); the runs on one and two threads must give the
//! same iterates, bit for bit. Single products are timed too (fastest of ten).
//!
//! `cargo run --release --example large_logistic`

use std::time::Instant;

use bilevel::data::{numbers, Array};
use bilevel::{bilevel, Algorithm, BgsOpt, Metrics, Run, XiSolver};

bilevel!(file = "tests/bl/logistic_regression.bl");

/// Synthetic data: N training and N/10 validation samples of p features; labels from a random linear model.
fn problem(samples: usize, features: usize) -> LogisticRegression {
    let truth = numbers(features, 9);
    let data = |rows: usize, seed: u64| {
        let x = numbers(rows * features, seed);
        let t = x.chunks(features).map(|r| r.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>().signum()).collect();
        (Array::matrix(rows, features, x).expect("sizes"), Array::vector(t))
    };
    let ((x, t), (xv, tv)) = (data(samples, 1), data(samples / 10, 2));
    LogisticRegression::new(LogisticRegressionData { X: x, t, Xv: xv, tv }).expect("the data fit")
}

fn main() {
    let (samples, features) = (100_000, 100);
    let problem = problem(samples, features);
    let bgs = BgsOpt {
        lower_step: Some(1.0),
        upper_step: 1.0,
        outer_iters: 20,
        metrics: Metrics::End,
        ..BgsOpt::corrected_itd(10, XiSolver::Gd { step: 1.0 })
    };
    println!("corrected ITD (T = 10, gd ξ) on logistic regression, N = {samples}, p = {features}\n");
    let mut finals: Vec<Run> = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
        // The median of three runs (the machine's timing is noisy).
        let timed = || {
            pool.install(|| {
                let mut runs: Vec<Run> = (0..3)
                    .map(|_| bgs.solve(&problem, &vec![0.0; features], &vec![0.0; features]).expect("a run"))
                    .collect();
                let per_iteration = |r: &Run| r.seconds.last().copied().unwrap_or(0.0) / r.iterations() as f64;
                runs.sort_by(|a, b| per_iteration(a).total_cmp(&per_iteration(b)));
                let run = runs.swap_remove(1);
                (per_iteration(&run), run)
            })
        };
        let (x, y, v) = (vec![0.1; features], vec![0.01; features], vec![0.02; features]);
        let (mut gx, mut gy) = (vec![0.0; features], vec![0.0; features]);
        pool.install(|| {
            use bilevel::MatrixFreeProblem;
            let fastest = |f: &mut dyn FnMut()| {
                (0..10)
                    .map(|_| {
                        let start = Instant::now();
                        f();
                        start.elapsed().as_secs_f64() * 1e3
                    })
                    .fold(f64::INFINITY, f64::min)
            };
            let grad = fastest(&mut || {
                problem.lower_grad(&x, &y, &mut gx, &mut gy);
            });
            let hvp = fastest(&mut || problem.lower_hvp_y(&x, &y, &v, &mut gx, &mut gy));
            println!("{threads} thread(s): lower_grad {grad:.1} ms, lower_hvp_y {hvp:.1} ms");
        });
        let (per_iteration, run) = timed();
        println!("{threads} thread(s): {:.1} ms per outer iteration", per_iteration * 1e3);
        finals.push(run);
    }
    let same = format!("{:?}", finals[0].trace) == format!("{:?}", finals[1].trace);
    println!("\nthe same iterates with 1 and 2 threads: {same}");
    assert!(same, "results depend on the thread count");
}
