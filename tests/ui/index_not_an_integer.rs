use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[2];
        minimize upper: x^2;
        minimize lower: (y[0.5] - x)^2;
    }
}

fn main() {}
