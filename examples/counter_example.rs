//! P1 of REFERENCE.md: the counter-example of Liu et al. (ICML 2020, Example 1). The lower level
//! `G = ½ y[0]² − x y[0]` does not determine `y[1]`, so its solution set is a line; the optimistic solution is
//! `x* = 1, y* = (1, 1)`, and unrolled methods settle elsewhere, at a point that depends on their settings.
//!
//! `cargo run --release --example counter_example`

use bilevel::report::{table, Row};
use bilevel::{bilevel, Algorithm, BgsOpt, Problem};

bilevel! {
    /// BDA paper, Example 1: the lower level leaves `y[1]` free.
    problem CounterExample {
        upper x: real in [-100, 100];
        lower y: real[2];
        minimize upper: 0.5 * (x - y[1])^2 + 0.5 * (y[0] - 1)^2;
        minimize lower: 0.5 * y[0]^2 - x * y[0];
        start x = 0, y = [0, 0];
    }
}

/// The REFERENCE.md settings of the `rhg` and `itd` rows: α = 0.2, T = 5, γ = 0.5, K = 3000.
pub fn reference_settings(preset: BgsOpt) -> BgsOpt {
    BgsOpt { lower_step: 0.2, upper_step: 0.5, outer_iters: 3000, ..preset }
}

fn main() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let c = 1.0 - 0.8f64.powi(5);
    let rows = [
        (BgsOpt::rhg(5), format!("x → c/(1+c²) = {:.6}", c / (1.0 + c * c))),
        (BgsOpt::itd(5), format!("x → c/(1+c) = {:.6}", c / (1.0 + c))),
    ];
    let mut results = Vec::new();
    for (preset, expected) in rows {
        let opt = reference_settings(preset);
        let settings =
            format!("T={} α={} γ={} K={}", opt.unrolled_steps, opt.lower_step, opt.upper_step, opt.outer_iters);
        match opt.solve(&p, &x0, &y0) {
            Ok(run) => results.push(Row::of(&opt.name(), &settings, &run, &expected)),
            Err(e) => eprintln!("{}: {e}", opt.name()),
        }
    }
    println!("P1 counter_example (x0 = 0, y0 = (0, 0)); c = 1 − (1 − α)^T\n");
    print!("{}", table(&results));
}
