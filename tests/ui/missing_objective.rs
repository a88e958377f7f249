use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: (x - y)^2;
    }
}

fn main() {}
