use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: sinh(x) + y;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
