//! P2 of REFERENCE.md: a lower level whose minima form a circle (a degenerate "Mexican hat"), so the lower
//! Hessian is singular on the whole solution set. Unrolled ITD stalls at a biased point whose bias shrinks
//! with the number of unrolled steps T.
//!
//! `cargo run --release --example mexican_hat`

use bilevel::report::{table, Row};
use bilevel::{bilevel, Algorithm, BgsOpt, Problem};

bilevel! {
    /// A Mexican hat centred at x: the lower minima are the unit circle around x.
    problem MexicanHat {
        upper x: real[2];
        lower y: real[2];
        /// The target of the upper level.
        param c = [2.0, 1.0];
        /// The weight of the upper regularization.
        param lambda = 1.0;
        minimize upper: 0.5 * norm2(y - c) + 0.5 * lambda * norm2(x);
        minimize lower: (norm2(y - x) - 1)^2;
        start x = [0, 0], y = [0.6, 0.8];
    }
}

fn main() {
    let p = MexicanHat::default();
    let (x0, y0) = p.start();
    let mut rows = Vec::new();
    for t in [1, 10] {
        let opt = BgsOpt { lower_step: 0.05, upper_step: 0.1, outer_iters: 1500, ..BgsOpt::itd(t) };
        let settings = format!("T={t} α=0.05 γ=0.1 K=1500");
        match opt.solve(&p, &x0, &y0) {
            Ok(run) => rows.push(Row::of("itd", &settings, &run, "a biased point (bias shrinks with T)")),
            Err(e) => eprintln!("itd T={t}: {e}"),
        }
    }
    println!("P2 mexican_hat (x0 = (0, 0), y0 = (0.6, 0.8))\n");
    print!("{}", table(&rows));
}
