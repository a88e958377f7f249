use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: x^2 + softplus;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
