use bilevel::bilevel;

bilevel! {
    problem P {
        upper x: real;
        lower y: real[3];
        minimize upper: x^2 + sum(i in 2..2: y[i]);
        minimize lower: norm2(y);
    }
}

fn main() {}
