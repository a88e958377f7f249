use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        param fn = 2;
        minimize upper: x^2;
        minimize lower: (y - fn * x)^2;
    }
}

fn main() {}
