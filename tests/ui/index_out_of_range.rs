use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[2];
        minimize upper: (x - y[2])^2;
        minimize lower: norm2(y);
    }
}

fn main() {}
