//! P7 of docs/algorithms.md: per-feature ridge regularization on the diabetes data set (221 training and 221
//! validation rows of ten features and a bias), a problem with data attached at run time. AID and corrected
//! ITD with an exact enough pseudo-inverse reach the optimum x*; a cutoff that discards genuine small eigenvalues
//! of this ill-conditioned H does not settle, and plain ITD settles at a biased point.
//!
//! `cargo run --release --example ridge_diabetes [-- --json]`

use bilevel::data::{Array, FileError, Table};
use bilevel::{bilevel, Algorithm, BgsOpt, Method, Run, XiSolver};

bilevel!(file = "examples/problems/ridge_diabetes.bl");

/// The optimum of docs/algorithms.md (L-BFGS on the reduced objective with the exact hypergradient).
pub const X_STAR: [f64; 10] = [
    0.7386756,
    -8.2266066,
    -7.5916059,
    -10.3725361,
    -0.0763336,
    0.0319212,
    -6.3748949,
    -0.0137237,
    -7.4021316,
    -0.1791673,
];
/// `F(x*)`.
pub const F_STAR: f64 = 1500.7740189819;

/// The problem on `examples/data/diabetes_split.csv`: rows `(f0, …, f9, 1)` of each split.
pub fn problem() -> Result<RidgeDiabetes, Box<dyn std::error::Error>> {
    let table = Table::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/diabetes_split.csv"))?;
    let features: Vec<String> = (0..10).map(|k| format!("f{k}")).collect();
    let split = |name: &str| -> Result<(Array, Array), FileError> {
        let rows = table.rows_where("split", name)?;
        Ok((rows.matrix(&features)?.with_column(1.0), rows.vector("target")?))
    };
    let ((x, t), (xv, tv)) = (split("train")?, split("val")?);
    Ok(RidgeDiabetes::new(RidgeDiabetesData { X: x, t, Xv: xv, tv })?)
}

/// The settings of docs/algorithms.md: x0 = 0, y0 = 0, α = 0.4, γ = 0.05, K outer iterations.
pub fn methods(outer_iters: usize) -> Vec<(Method, &'static str)> {
    let set = |m: BgsOpt| Method::from(BgsOpt { lower_step: Some(0.4), upper_step: 0.05, outer_iters, ..m });
    vec![
        (set(BgsOpt::aid(50, XiSolver::Cg { iters: 20 })), "x*, F = 1500.774019"),
        (set(BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-6 })), "x*, F = 1500.774019"),
        (set(BgsOpt::corrected_itd(10, XiSolver::Pinv { rtol: 1e-3 })), "does not settle: F ≈ 1535"),
        (set(BgsOpt::itd(50)), "biased, F = 1524.3188"),
    ]
}

/// `‖x − x*‖`.
pub fn distance(run: &Run) -> f64 {
    run.x().iter().zip(X_STAR).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let problem = problem()?;
    let json = bilevel::report::json_requested();
    if !json {
        println!("P7 ridge_diabetes: n = 10, m = 11, 221 + 221 rows; x* has F = {F_STAR}\n");
        println!(
            "{:<14} {:<44} {:>8} {:>12} {:>10} {:>10}  expected",
            "algorithm", "settings", "iters", "µs/iter", "F", "‖x − x*‖"
        );
    }
    for (method, expected) in methods(10_000) {
        let run = match method.solve(&problem, &[0.0; 10], &[0.0; 11]) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("{} ({}): {e}", method.name(), method.settings());
                continue;
            }
        };
        // The iterations' own time (the records' metrics excluded).
        let per_iter = run.seconds.last().copied().unwrap_or(0.0) / run.iterations().max(1) as f64;
        let last = run.last();
        if json {
            let x: Vec<String> = run.x().iter().map(|v| format!("{v}")).collect();
            println!(
                "{{\"algorithm\":\"{}\",\"settings\":\"{}\",\"iterations\":{},\"seconds_per_iteration\":{per_iter:e},\"x\":[{}],\"upper\":{}}}",
                method.name(),
                method.settings(),
                run.iterations(),
                x.join(","),
                last.upper
            );
        } else {
            println!(
                "{:<14} {:<44} {:>8} {:>12.1} {:>10.4} {:>10.2e}  {expected}",
                method.name(),
                method.settings(),
                run.iterations(),
                per_iter * 1e6,
                last.upper,
                distance(&run)
            );
        }
    }
    Ok(())
}
