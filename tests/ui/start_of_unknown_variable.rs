use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: x^2;
        minimize lower: (y - x)^2;
        start z = 1;
    }
}

fn main() {}
