use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real in [0, 1];
        minimize upper: x^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
