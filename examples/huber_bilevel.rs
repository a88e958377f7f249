//! P4 of REFERENCE.md: the Huber illustration of Bolte et al. (Sec. 5.4). The lower objective
//! `G = h(y² − 1)` with Huber's `h` has minimizers `y = ±1`; the upper variable does not appear. Single-step
//! multi-step ITD (SMBG) converges to a lower-level solution.
//!
//! `cargo run --release --example huber_bilevel`

use bilevel::nalgebra::SVector;
use bilevel::report::{table, Row};
use bilevel::{bilevel, Algorithm, BgsOpt, Problem};

bilevel! {
    /// Bolte et al., Sec. 5.4: a Huber lower level with two minimizers.
    problem HuberBilevel {
        upper x: real;
        lower y: real;
        /// The point the upper level pulls y towards.
        param target = 0.1;
        minimize upper: (y - target)^2;
        minimize lower: huber(y^2 - 1);
        start x = 0, y = 0.5;
    }
}

fn main() {
    let p = HuberBilevel::default();
    let (x0, _) = p.start();
    let opt = BgsOpt { lower_step: 0.05, upper_step: 0.1, outer_iters: 200, ..BgsOpt::itd(10) };
    let mut rows = Vec::new();
    for (y0, expected) in [(0.5, "y → 1"), (-0.3, "y → −1")] {
        let settings = format!("T=10 α=0.05 γ=0.1 K=200 y0={y0}");
        match opt.solve(&p, &x0, &SVector::from([y0])) {
            Ok(run) => rows.push(Row::of("itd (SMBG)", &settings, &run, expected)),
            Err(e) => eprintln!("itd y0={y0}: {e}"),
        }
    }
    println!("P4 huber_bilevel (F = (y − 0.1)²)\n");
    print!("{}", table(&rows));
}
