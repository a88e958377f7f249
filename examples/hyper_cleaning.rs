//! P6 of docs/algorithms.md: data hyper-cleaning on the digits data set. Half of the 600 training labels are
//! corrupted; each training sample gets a weight σ(s_i), learned so that softmax regression trained on the
//! weighted samples does well on 600 clean validation samples. Reported: test accuracy of the learned W on 597
//! test samples against two baselines (uniform weights; training on the clean samples only), and how well
//! "σ(s_i) < ½" finds the corrupted samples (precision and recall).
//!
//! `cargo run --release --example hyper_cleaning [-- --json] [-- --full]`: by default ITD, corrected ITD (`gd`)
//! and GALET with K = 300 outer iterations (about a minute); `--full` runs the six methods with
//! K = 1000 (about a quarter of an hour on two cores).

use std::time::Instant;

use bilevel::data::{Array, Table};
use bilevel::matrix_free::solve_lower;
use bilevel::{bilevel, Algorithm, Bda, BgsOpt, Galet, Method, XiSolver};

bilevel!(file = "examples/problems/hyper_cleaning.bl");

/// Features `(p0/16, …, p63/16, 1)`.
const P: usize = 65;
/// Classes.
const C: usize = 10;
/// A bound on ‖H‖ for every s (docs/algorithms.md): the lower step α = 0.15 is below 1/L_G.
pub const L_G: f64 = 5.7101;

/// The data set split as the file says.
pub struct Digits {
    /// The problem on the training and validation rows.
    pub problem: HyperCleaning,
    /// The problem on the clean training rows only (for the clean-only baseline).
    pub clean_only: HyperCleaning,
    /// Test features and labels.
    pub test: (Array, Vec<usize>),
    /// Whether each training label is corrupted.
    pub corrupted: Vec<bool>,
}

/// Reads `examples/data/digits_hc.csv`.
pub fn digits() -> Result<Digits, Box<dyn std::error::Error>> {
    digits_limited(usize::MAX)
}

/// The data set with at most `rows` training and `rows` validation rows (the first ones of the file), for tests.
pub fn digits_limited(rows: usize) -> Result<Digits, Box<dyn std::error::Error>> {
    let table = Table::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits_hc.csv"))?;
    let pixels: Vec<String> = (0..64).map(|k| format!("p{k}")).collect();
    let features = |t: &Table| -> Result<Array, Box<dyn std::error::Error>> {
        Ok(t.matrix(&pixels)?.map(|v| v / 16.0).with_column(1.0))
    };
    let one_hot = |t: &Table, column: &str| -> Result<Array, Box<dyn std::error::Error>> {
        Ok(Array::one_hot(&t.vector(column)?, C)?)
    };
    let first = |t: Table| t.head(rows);
    let (train, val, test) = (
        first(table.rows_where("split", "train")?),
        first(table.rows_where("split", "val")?),
        table.rows_where("split", "test")?,
    );
    let clean = train.rows_where("corrupted", "0")?;
    let problem = HyperCleaning::new(HyperCleaningData {
        X: features(&train)?,
        Y: one_hot(&train, "train_label")?,
        Xv: features(&val)?,
        Yv: one_hot(&val, "label")?,
    })?;
    let clean_only = HyperCleaning::new(HyperCleaningData {
        X: features(&clean)?,
        Y: one_hot(&clean, "train_label")?,
        Xv: features(&val)?,
        Yv: one_hot(&val, "label")?,
    })?;
    let labels = test.vector("label")?.as_slice().iter().map(|v| *v as usize).collect();
    let corrupted = train.vector("corrupted")?.as_slice().iter().map(|v| *v == 1.0).collect();
    Ok(Digits { problem, clean_only, test: (features(&test)?, labels), corrupted })
}

/// The share of test samples whose largest class score `u·W` is their label.
pub fn accuracy(w: &[f64], (x, labels): &(Array, Vec<usize>)) -> f64 {
    let right = labels
        .iter()
        .enumerate()
        .filter(|(i, label)| {
            let row = x.row(*i);
            let score = |c: usize| (0..P).map(|l| row[l] * w[l * C + c]).sum::<f64>();
            (0..C).max_by(|a, b| score(*a).total_cmp(&score(*b))) == Some(**label)
        })
        .count();
    right as f64 / labels.len() as f64
}

/// Precision and recall of "σ(s_i) < ½" (s_i < 0) as a detector of the corrupted samples.
pub fn precision_recall(s: &[f64], corrupted: &[bool]) -> (f64, f64) {
    let flagged = s.iter().filter(|v| **v < 0.0).count();
    let hits = s.iter().zip(corrupted).filter(|(v, c)| **v < 0.0 && **c).count();
    let total = corrupted.iter().filter(|c| **c).count();
    (hits as f64 / flagged.max(1) as f64, hits as f64 / total.max(1) as f64)
}

/// W trained with uniform weights (s = 0) on `problem`, by truncated Newton.
pub fn trained(problem: &HyperCleaning) -> Vec<f64> {
    let n = bilevel::MatrixFreeProblem::dims(problem).0;
    let mut w = vec![0.0; P * C];
    solve_lower(problem, &vec![0.0; n], &mut w, 1e-9, 200);
    w
}

/// The runs of docs/algorithms.md: α = 0.15, K outer iterations, each with the upper step γ chosen there.
pub fn methods(outer_iters: usize) -> Vec<(Method, &'static str)> {
    let alpha = 0.15;
    let bgs =
        |m: BgsOpt, gamma: f64| Method::from(BgsOpt { lower_step: Some(alpha), upper_step: gamma, outer_iters, ..m });
    vec![
        (bgs(BgsOpt::itd(10), 3e4), "93.97 %, 0.948 / 0.970"),
        (bgs(BgsOpt::aid(50, XiSolver::Cg { iters: 20 }), 1e3), "93.80 %, 0.939 / 0.970"),
        (bgs(BgsOpt::corrected_itd(10, XiSolver::Gd { step: alpha }), 1e4), "93.63 %, 0.948 / 0.977"),
        (bgs(BgsOpt::corrected_itd(10, XiSolver::ZCg { iters: 2 }), 3e4), "93.63 %, 0.951 / 0.977"),
        (
            Method::from(Bda {
                outer_iters,
                inner_iters: 50,
                upper_inner_step: alpha,
                lower_inner_step: Some(alpha),
                mu: 0.5,
                upper_step: 3e4,
                ..Bda::default()
            }),
            "89.11 %, 0.995 / 0.733",
        ),
        (
            Method::from(Galet {
                outer_iters,
                lower_iters: 10,
                lower_step: Some(alpha),
                w_iters: 10,
                w_step: 1.0 / (L_G * L_G),
                upper_step: 3e4,
                ..Galet::default()
            }),
            "93.13 %, 0.938 / 0.963",
        ),
    ]
}

/// Times each product of the problem (`--timing`).
fn timing(d: &Digits) {
    use bilevel::MatrixFreeProblem;
    let p = &d.problem;
    let (x, y, v) = (vec![0.1; 600], vec![0.01; 650], vec![0.02; 650]);
    let (mut gx, mut gy) = (vec![0.0; 600], vec![0.0; 650]);
    let t = Instant::now();
    for _ in 0..20 {
        p.lower_grad(&x, &y, &mut gx, &mut gy);
    }
    eprintln!("lower_grad {:.3} ms", t.elapsed().as_secs_f64() * 50.0);
    let t = Instant::now();
    for _ in 0..20 {
        p.lower_hvp_y(&x, &y, &v, &mut gx, &mut gy);
    }
    eprintln!("lower_hvp_y {:.3} ms", t.elapsed().as_secs_f64() * 50.0);
    let t = Instant::now();
    for _ in 0..20 {
        p.upper_grad(&x, &y, &mut gx, &mut gy);
    }
    eprintln!("upper_grad {:.3} ms", t.elapsed().as_secs_f64() * 50.0);
    let t = Instant::now();
    for _ in 0..20 {
        p.lower(&x, &y);
    }
    eprintln!("lower {:.3} ms", t.elapsed().as_secs_f64() * 50.0);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let digits = digits()?;
    if std::env::args().any(|a| a == "--timing") {
        timing(&digits);
        return Ok(());
    }
    let json = bilevel::report::json_requested();
    let full = std::env::args().any(|a| a == "--full");
    let outer_iters = if full { 1000 } else { 300 };
    let uniform = accuracy(&trained(&digits.problem), &digits.test);
    let clean = accuracy(&trained(&digits.clean_only), &digits.test);
    if json {
        println!("{{\"algorithm\":\"uniform-weights\",\"test_accuracy\":{uniform}}}");
        println!("{{\"algorithm\":\"clean-only\",\"test_accuracy\":{clean}}}");
    } else {
        println!("P6 hyper_cleaning: n = 600 sample weights, m = 650 weights of W; 300 of 600 labels corrupted\n");
        println!(
            "baselines: uniform weights {:.2} % (reference 82.75 %), clean samples only {:.2} % (93.63 %)\n",
            100.0 * uniform,
            100.0 * clean
        );
        println!(
            "{:<14} {:<48} {:>7} {:>9} {:>9} {:>19}  expected",
            "algorithm", "settings", "iters", "ms/iter", "test acc", "precision / recall"
        );
    }
    let cheap = |m: &Method| matches!(m.name().as_str(), "itd" | "galet") || m.settings().contains("gd");
    for (method, expected) in methods(outer_iters).into_iter().filter(|(m, _)| full || cheap(m)) {
        let run = match method.solve(&digits.problem, &[0.0; 600], &[0.0; P * C]) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("{} ({}): {e}", method.name(), method.settings());
                continue;
            }
        };
        // The iterations' own time (the records' metrics excluded).
        let per_iter = run.seconds.last().copied().unwrap_or(0.0) / run.iterations().max(1) as f64;
        let acc = accuracy(run.y().as_slice(), &digits.test);
        let (precision, recall) = precision_recall(run.x().as_slice(), &digits.corrupted);
        if json {
            println!(
                "{{\"algorithm\":\"{}\",\"settings\":\"{}\",\"iterations\":{},\"seconds_per_iteration\":{per_iter:e},\"test_accuracy\":{acc},\"precision\":{precision},\"recall\":{recall},\"upper\":{}}}",
                method.name(),
                method.settings(),
                run.iterations(),
                run.last().upper
            );
        } else {
            println!(
                "{:<14} {:<48} {:>7} {:>9.2} {:>8.2} % {:>8.3} / {:<8.3}  {expected}",
                method.name(),
                method.settings(),
                run.iterations(),
                per_iter * 1e3,
                100.0 * acc,
                precision,
                recall
            );
        }
    }
    Ok(())
}
