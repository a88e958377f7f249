use bilevel::bilevel;

bilevel! {
    problem counter {
        upper x: real;
        lower y: real;
        minimize upper: x^2;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
