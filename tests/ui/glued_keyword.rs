use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        letz = x + 1;
        minimize upper: x^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
