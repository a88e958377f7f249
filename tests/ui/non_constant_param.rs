use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        param a = 2 * x;
        minimize upper: a * x^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
