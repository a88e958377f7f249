use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        minimize upper: x^2;
        minimize lower: x^4;
    }
}

fn main() {}
