use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[2];
        minimize upper: (x - w)^2 + y[5];
        minimize lower: foo(y);
    }
}

fn main() {}
