//! P1 of REFERENCE.md: the counter-example of Liu et al. (ICML 2020, Example 1), where the lower level does not
//! determine `y[1]`.
//!
//! `cargo run --release --example counter_example`

use bilevel::{bilevel, BgsOpt, Problem};

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

fn main() {
    let p = CounterExample;
    let (x0, y0) = p.start();
    let itd = BgsOpt { lower_step: 0.2, upper_step: 0.5, outer_iters: 3000, ..BgsOpt::itd(5) };
    let run = itd.solve(&p, &x0, &y0).unwrap();
    println!("{} {}", run.x(), run.y());
}
