use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[3];
        minimize upper: x^2 + sum(i in 0..3: y[i]) + y[i];
        minimize lower: norm2(y) - x * sum(y);
    }
}

fn main() {}
