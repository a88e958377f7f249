//! Stochastic bilevel methods on the reference benchmark's regularization-selection problem
//! (`examples/problems/stochastic_logistic.bl`): per-feature ridge logistic regression, the weights `exp(x_j)`
//! learned on validation samples, from benchopt's start. SOBA, SABA, SRBA, StocBiO and AmIGO run with `h(x) = F(x, z*(x))` evaluated
//! every 128 steps off the clock (`Metrics::Solved`); the table gives, for each, the time and the per-sample
//! gradients ("oracle calls") it took to reach `h − h* ≤ 1e-3, 1e-4, 1e-5`. `h*` is `h` at the end of a
//! full-batch run of the same single-loop rule with constant steps (every sample in every step), whose
//! hypergradient estimate `‖d‖` at the end is printed: the gaps are relative to it.
//!
//! `cargo run --release --example stochastic_logistic [-- DATA_DIR [STEPS [REFERENCE_STEPS [SEEDS]]]]` (the table
//! gives the medians over seeds 1..=SEEDS, 1 by default, and how many seeds reached a level that not all did):
//! `DATA_DIR` holds
//! `X_train.npy`, `y_train.npy`, `X_val.npy`, `y_val.npy`, `x0.npy` and `z0.npy` (default
//! `examples/data/stochastic`: the first 4000 training and 6000 validation samples of a synthetic set of ijcnn1's
//! shape, see `examples/data/README.md`). On that subset some weights `exp(x_j)` tend to 0 (h has no minimizer in
//! those coordinates and decreases slowly along them); on the whole set the optimum is finite.

use std::path::{Path, PathBuf};

use bilevel::data::Array;
use bilevel::{bilevel, Algorithm, MatrixFreeProblem, Method, Run, Sampling};

bilevel!(file = "examples/problems/stochastic_logistic.bl");

type Error = Box<dyn std::error::Error>;

/// The problem on the data of `dir`, with its start `(x0, z0)`.
pub fn problem(dir: &Path) -> Result<(RidgeLogistic, Vec<f64>, Vec<f64>), Error> {
    let read = |name: &str| Array::read_npy(dir.join(format!("{name}.npy")));
    let data = RidgeLogisticData { X: read("X_train")?, t: read("y_train")?, Xv: read("X_val")?, tv: read("y_val")? };
    let (x0, z0) = (read("x0")?.as_slice().to_vec(), read("z0")?.as_slice().to_vec());
    Ok((RidgeLogistic::new(data)?, x0, z0))
}

/// The setting every method shares: `x` moves ten times as far as `z` (`r = 0.1`; `r = 1` barely moves `x` on
/// this problem, `r = 0.05` diverges).
const SETTINGS: [(&str, &str); 1] = [("outer-ratio", "0.1")];

/// `h` and `‖d‖` at the end of `steps` full-batch steps of the single-loop rule with constant steps.
pub fn reference(p: &RidgeLogistic, (x0, z0): (&[f64], &[f64]), steps: usize) -> Result<(f64, f64), Error> {
    let (steps, all) = (steps.to_string(), usize::MAX.to_string());
    let mut options = vec![("iters", steps.as_str()), ("decay", "0"), ("batch", all.as_str())];
    options.extend(SETTINGS);
    let run = Method::from_options("soba", &options)?.solve(p, x0, z0)?;
    let h = run.last().upper_at_solution.ok_or("the lower level at the reference's last x was not solved")?;
    Ok((h, run.last().dir_norm))
}

/// The middle of sorted values (the mean of the two middle ones for an even count).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// The median time and calls to level `l` over the seeds, if every one of the `seeds` runs reached it.
fn median_cell(reach: &[Vec<Option<(f64, f64)>>], l: usize, seeds: usize) -> String {
    let hits: Vec<(f64, f64)> = reach.iter().filter_map(|r| r[l]).collect();
    if hits.len() < seeds {
        return format!("— ({}/{seeds})", hits.len());
    }
    let mut times: Vec<f64> = hits.iter().map(|h| h.0).collect();
    let mut calls: Vec<f64> = hits.iter().map(|h| h.1).collect();
    times.sort_by(f64::total_cmp);
    calls.sort_by(f64::total_cmp);
    format!("{:.3} s, {:.2e} calls", median(&times), median(&calls))
}

/// For each level, the first record's seconds and oracle calls where `h − h* ≤ level`.
pub fn reached(run: &Run, h_star: f64, levels: &[f64]) -> Vec<Option<(f64, f64)>> {
    let calls = |k: usize| run.trace[k].extras.iter().find(|(n, _)| n == "oracle_grad").map_or(0.0, |e| e.1);
    levels
        .iter()
        .map(|level| {
            let k = run.trace.iter().position(|r| r.upper_at_solution.is_some_and(|h| h - h_star <= *level))?;
            Some((run.seconds[k], calls(k)))
        })
        .collect()
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/stochastic");
    let dir = PathBuf::from(args.next().unwrap_or_else(|| default.into()));
    let steps: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;
    let reference_steps: usize = args.next().map_or(Ok(20_000), |s| s.parse())?;
    let seeds: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    let (p, x0, z0) = problem(&dir)?;
    let (h_star, d) = reference(&p, (&x0, &z0), reference_steps)?;
    let count =
        |s: &Sampling| if let Sampling::Dim { name, size } = s { format!("{name} = {size}") } else { "?".into() };
    let s = p.samples();
    println!(
        "RidgeLogistic on {}: {} training, {} validation samples",
        dir.display(),
        count(&s.lower),
        count(&s.upper)
    );
    println!("h* = {h_star:.10} after {reference_steps} full-batch steps (‖d‖ = {d:.2e} there)\n");
    let levels = [1e-3, 1e-4, 1e-5];
    println!("{:<7} {:<50} {:>26} {:>26} {:>26}", "method", "settings", "h − h* ≤ 1e-3", "≤ 1e-4", "≤ 1e-5");
    for algo in ["soba", "saba", "srba", "stocbio", "amigo"] {
        let steps = steps.to_string();
        // Each seed's time and calls to each level (None where it did not get there), and its final gap.
        let mut reach: Vec<Vec<Option<(f64, f64)>>> = Vec::new();
        let (mut gaps, mut settings) = (Vec::new(), String::new());
        for seed in 1..=seeds {
            let seed = seed.to_string();
            let mut options = vec![("iters", steps.as_str()), ("eval-every", "128"), ("seed", seed.as_str())];
            options.extend(SETTINGS);
            let method = Method::from_options(algo, &options)?;
            settings = method.settings().replace(&format!("seed={seed}"), &format!("seeds=1..{seeds}"));
            match method.solve(&p, &x0, &z0) {
                Ok(run) => {
                    reach.push(reached(&run, h_star, &levels));
                    gaps.push(run.last().upper_at_solution.map_or(f64::NAN, |h| h - h_star));
                }
                Err(e) => println!("{algo:<7} {settings:<50} {e}"),
            }
        }
        let cells: Vec<String> = (0..levels.len()).map(|l| median_cell(&reach, l, seeds)).collect();
        println!("{algo:<7} {settings:<50} {:>26} {:>26} {:>26}", cells[0], cells[1], cells[2]);
        gaps.sort_by(f64::total_cmp);
        println!("        h − h* after {steps} steps, median of {} seeds: {:.2e}", gaps.len(), median(&gaps));
    }
    Ok(())
}
