use bilevel::{bilevel, Algorithm, BgsOpt, Problem};

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: (x - q)^2;
        minimize lower: (y - x)^2;
    }
}

// Code that uses the problem type reports no errors of its own: only the one above.
fn main() {
    let p = P::default();
    let (x0, y0) = p.start();
    let _ = BgsOpt::itd(5).solve(&p, &x0, &y0);
}
