use bilevel::bilevel;

// A name that would shadow a Rust type: the one error, and no follow-on errors from the code around it.
bilevel! {
    problem f64 {
        upper x: real;
        lower y: real;
        minimize upper: x^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {
    let half: f64 = 0.5;
    let _ = half * 2.0;
}
