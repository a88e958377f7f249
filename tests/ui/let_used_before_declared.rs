use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real;
        minimize upper: r^2;
        let r = y - 1;
        minimize lower: (y - x)^2;
    }
}

fn main() {}
